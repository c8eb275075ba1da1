// Where the poll resource lives: the paid POST, the reads under it, and the links answers carry.
export const POLLS_PATH = "/api/v1/polls";

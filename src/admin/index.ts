// The admin feature: voters' reports of a poll and the operator's admin API (reports, takedowns, the log of
// admin actions), guarded by ADMIN_TOKEN. Used by others through this file only.
export { ADMIN_PATH, adminRoutes, type AdminDeps, type AdminSettings } from "./routes";
export { adminTokenMatches } from "./admin-auth";
export { REPORT_NOTE_MAX, REPORT_REASONS } from "./reports";

// Modules the Workers bundle imports through wrangler.toml `[[rules]]` (not as JavaScript):
// Text → the file's contents as a string, Data → an ArrayBuffer. Node never imports these.
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const text: string;
  export default text;
}
declare module "*.ico" {
  const data: ArrayBuffer;
  export default data;
}
declare module "@worldcoin/idkit-core/dist/idkit.global.js" {
  const text: string;
  export default text;
}
declare module "@worldcoin/idkit-core/dist/idkit_wasm_bg.wasm" {
  const data: ArrayBuffer;
  export default data;
}
// package.json as Text, not JSON: exports maps do not list it (wrangler's rules resolve it anyway).
declare module "@worldcoin/idkit-core/package.json" {
  const text: string;
  export default text;
}
declare module "uqr/package.json" {
  const text: string;
  export default text;
}
declare module "uqr/dist/index.mjs" {
  const text: string;
  export default text;
}

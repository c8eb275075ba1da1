// Unpacks the npm dev dependency's Chromium and prints its path. `.ci/run` points CHROMIUM_PATH at it, so
// that CI proves the route a machine without a system browser takes, even where Debian's is installed.
import { npmChromium } from "./chromium-executable";

const { path } = await npmChromium();
console.log(path);

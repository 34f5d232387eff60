import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Local state lives under `.data/` at the project root (git-ignored). */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const dataDir = join(projectRoot, '.data');
export const runtimeFile = join(dataDir, 'runtime.json');
export const demoFile = join(dataDir, 'demo.json');
/** The key list cursors are sealed with (CURSOR_KEY_FILE), made on first start. */
export const cursorKeyFile = join(dataDir, 'cursor.key');
/** The key channel credentials are sealed with (CREDENTIALS_KEY_FILE), made on first use. */
export const credentialsKeyFile = join(dataDir, 'credentials.key');

/**
 * The desktop shell's own preferences, kept in a small JSON file in the
 * app's user data folder. An unreadable or invalid file counts as defaults,
 * because losing these costs the user one notice at most.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';

export const desktopPrefsSchema = z.object({
  /** Set once the "still running in the tray" notice was shown. */
  closeNoticeShown: z.boolean().default(false),
});
export type DesktopPrefs = z.infer<typeof desktopPrefsSchema>;

export async function readDesktopPrefs(file: string): Promise<DesktopPrefs> {
  try {
    const parsed = desktopPrefsSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // Missing or not JSON: defaults below.
  }
  return desktopPrefsSchema.parse({});
}

/** Writes through a temporary file, so a crash never leaves half a file. */
export async function writeDesktopPrefs(file: string, prefs: DesktopPrefs): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, JSON.stringify(prefs, null, 2) + '\n', 'utf8');
  await rename(temporary, file);
}

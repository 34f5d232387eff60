import { multiValueSeparator } from './column-mapping';

/**
 * Formula injection (CSV injection, OWASP): a spreadsheet opening a file treats a cell that starts with
 * `=`, `+`, `-` or `@` as a formula (and a leading tab or carriage return can hide one), so a contact
 * named `=HYPERLINK(...)` would run in the reader's spreadsheet. Exported cells are guarded (both CSV
 * and XLSX, so a reader treats them alike), and the import reader undoes the guard (`cleanCell`), so
 * that a file goes out and comes back unchanged.
 *
 * The rule, exactly:
 * - A cell is *guarded* (a `'` put in front) when it starts with any number of `'` followed by one of
 *   `=` `+` `-` `@` TAB CR — unless it is plainly data: each of its values (the cell split on ` ::: `)
 *   is an optional `+` or `-` then only digits, spaces and `( ) . , / -`, with at least one digit (phone
 *   numbers `+49 151 23456789 ::: +44 20 7946 0000`, a negative number `-12.5`, a Telegram chat id
 *   `-100123`). Such a cell holds no letters, no `|`, `!`, `:` or quotes: a spreadsheet can at most do
 *   arithmetic with it, it calls no function and reaches nothing.
 * - `unguardCell` drops one leading `'` from a cell that starts with one or more `'` followed by one of
 *   those six characters, and leaves every other cell alone.
 * The leading `'`s in the rule make the pair exact: a value that itself starts with `'=` is written
 * `''=` and reads back `'=`. So `unguardCell(guardCell(v)) === v` for every string.
 */

const formulaStart = /^'*[=+\-@\t\r]/;
const guardedStart = /^'+[=+\-@\t\r]/;
const plainValue = /^[+-]?[\d ().,/-]*\d[\d ().,/-]*$/;

/** Whether every value of a cell is plainly a number (see above): such a cell is left as it is. */
export const isPlainData = (cell: string): boolean => cell.split(multiValueSeparator).every((value) => plainValue.test(value));

/** The cell as a file should hold it: `'` in front when a spreadsheet would read it as a formula. */
export const guardCell = (cell: string): string =>
  formulaStart.test(cell) && !isPlainData(cell) ? `'${cell}` : cell;

/** The inverse of `guardCell`, for readers of our files (and of others' files guarded the same way). */
export const unguardCell = (cell: string): string => (guardedStart.test(cell) ? cell.slice(1) : cell);

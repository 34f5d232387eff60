import * as z from 'zod';

/** A comma-separated list of allowed values: `a,b,c` → ['a', 'b', 'c'] (sorted, without repeats). */
export const commaList = <T extends string>(allowed: readonly T[], max: number, what: string) =>
  z
    .string()
    .max(2000)
    .transform((text, ctx) => {
      const values = [...new Set(text.split(',').map((value) => value.trim()).filter((value) => value !== ''))].sort();
      const unknown = values.filter((value) => !allowed.includes(value as T));
      if (values.length === 0) ctx.addIssue({ code: 'custom', message: `Give at least one ${what}` });
      else if (values.length > max) ctx.addIssue({ code: 'custom', message: `At most ${max} ${what}s` });
      else if (unknown.length > 0)
        ctx.addIssue({ code: 'custom', message: `Unknown ${what}${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}` });
      else return values as T[];
      return z.NEVER;
    });

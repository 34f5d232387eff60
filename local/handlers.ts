/** Loads a Lambda handler by its entry path (as written in the definition tables), once. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loaded = new Map<string, Promise<any>>();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadHandler<H = (...args: any[]) => Promise<any>>(entry: string): Promise<H> {
  let module = loaded.get(entry);
  if (!module) {
    const specifier = `../${entry.replace(/\.ts$/, '')}`;
    module = import(specifier).then((m: { handler?: H }) => {
      if (typeof m.handler !== 'function') throw new Error(`${entry} exports no handler`);
      return m.handler;
    });
    loaded.set(entry, module);
  }
  return module as Promise<H>;
}

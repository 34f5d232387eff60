/**
 * Cold-start helpers: things a module would build at import (zod schemas, a large library) are built
 * when first asked for instead, so a function pays only for what it uses. A build that throws is not
 * kept: the next call tries again.
 */

/**
 * `load()` run on the first call (a dynamic `import()` of a large library, say); later calls share its
 * promise. A load that fails is forgotten, so the next call loads again.
 */
export function loadedOnFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/**
 * An object with the keys of `builders` whose each value is built by its builder when the key is first
 * read, then kept. `Object.keys` lists every key without building any; with `listOnlyBuilt`, it lists
 * only the keys built so far (for a consumer that walks every value, like ElectroDB's transactions).
 */
export function builtOnFirstUse<B extends Record<string, () => unknown>>(
  builders: B,
  options: { listOnlyBuilt?: boolean } = {},
): { readonly [K in keyof B]: ReturnType<B[K]> } {
  const built = {} as { [K in keyof B]: ReturnType<B[K]> };
  for (const key of Object.keys(builders) as (keyof B & string)[]) {
    Object.defineProperty(built, key, {
      enumerable: !options.listOnlyBuilt,
      configurable: true,
      get() {
        const value = builders[key]!() as ReturnType<B[typeof key]>;
        Object.defineProperty(built, key, { value, enumerable: true, configurable: false, writable: false });
        return value;
      },
    });
  }
  return built;
}

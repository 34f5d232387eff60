import { createHash } from 'node:crypto';

/**
 * The plain fallback of /docs, used only when the Scalar renderer files cannot be found: a readable,
 * self-contained reference rendered from the OpenAPI document, with no script and no external assets.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const escapeHtml = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const inlineCode = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function schemaSummary(schema: Json, doc: Json, depth = 0): string {
  if (!schema) return '';
  if (schema.$ref) {
    const name = String(schema.$ref).split('/').pop()!;
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (schema.enum) return schema.enum.map((v: unknown) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' | ');
  if (schema.anyOf || schema.oneOf) return (schema.anyOf ?? schema.oneOf).map((s: Json) => schemaSummary(s, doc, depth)).join(' | ');
  if (schema.type === 'array') return `array of ${schemaSummary(schema.items, doc, depth)}`;
  if (schema.type === 'object' && schema.properties && depth < 2) return propertiesTable(schema, doc, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  const limits = [
    schema.format && `format ${schema.format}`,
    schema.minLength !== undefined && `min length ${schema.minLength}`,
    schema.maxLength !== undefined && `max length ${schema.maxLength}`,
    schema.minimum !== undefined && `≥ ${schema.minimum}`,
    schema.maximum !== undefined && `≤ ${schema.maximum}`,
    schema.default !== undefined && `default ${JSON.stringify(schema.default)}`,
  ].filter(Boolean);
  return `${escapeHtml(type)}${limits.length ? ` <small>(${escapeHtml(limits.join(', '))})</small>` : ''}`;
}

function propertiesTable(schema: Json, doc: Json, depth: number): string {
  const required = new Set<string>(schema.required ?? []);
  const rows = Object.entries(schema.properties ?? {}).map(
    ([name, property]: [string, Json]) =>
      `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? ' <b>required</b>' : ''}</td><td>${schemaSummary(property, doc, depth)}</td><td>${property.description ? inlineCode(property.description) : ''}</td></tr>`,
  );
  return `<table><thead><tr><th>field</th><th>type</th><th>notes</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderDocsPage(doc: Json, notice?: string): string {
  const sections: string[] = [];
  const byTag = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths ?? {}) as [string, Json][]) {
    for (const [method, operation] of Object.entries(operations) as [string, Json][]) {
      const tag = operation.tags?.[0] ?? 'Other';
      const parameters = (operation.parameters ?? []) as Json[];
      const body = operation.requestBody?.content?.['application/json']?.schema;
      const responses = Object.entries(operation.responses ?? {}) as [string, Json][];
      const html = `<section class="op" id="${escapeHtml(operation.operationId)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p>${inlineCode(operation.summary ?? '')}</p>${operation.description ? `<p>${inlineCode(operation.description)}</p>` : ''}
${operation.security?.length ? '<p class="auth">Requires a bearer token.</p>' : '<p class="auth">Public.</p>'}
${parameters.length ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr></thead><tbody>${parameters.map((p) => `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? ' <b>required</b>' : ''}</td><td>${escapeHtml(p.in)}</td><td>${schemaSummary(p.schema, doc)}</td><td>${p.description ? inlineCode(p.description) : p.schema?.description ? inlineCode(p.schema.description) : ''}</td></tr>`).join('')}</tbody></table>` : ''}
${body ? `<h4>Request body</h4>${schemaSummary(body, doc)}` : ''}
<h4>Responses</h4><ul>${responses.map(([status, response]) => `<li><b>${escapeHtml(status)}</b> ${escapeHtml(response.description ?? '')} ${response.content ? schemaSummary((Object.values(response.content as Json)[0] as Json)?.schema, doc) : ''}</li>`).join('')}</ul>
</section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const nav = [...byTag.keys()].map((tag) => `<li><a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a></li>`).join('');
  for (const [tag, operations] of byTag) sections.push(`<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>${operations.join('')}`);
  const schemas = Object.entries(doc.components?.schemas ?? {}) as [string, Json][];
  const schemaSections = schemas.map(([name, schema]) => `<section class="schema" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${schema.description ? `<p>${inlineCode(schema.description)}</p>` : ''}${schema.properties ? propertiesTable(schema, doc, 1) : schemaSummary(schema, doc)}</section>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(doc.info?.title ?? 'API')} reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;display:flex;color:#1d2433}nav{width:220px;padding:1rem;background:#f4f6fa;position:sticky;top:0;height:100vh;overflow:auto}main{flex:1;padding:1rem 2rem;max-width:980px}code{background:#eef1f6;padding:0 .25em;border-radius:3px}table{border-collapse:collapse;margin:.5rem 0;width:100%}td,th{border:1px solid #dde2ea;padding:.25rem .5rem;text-align:left;vertical-align:top}.op{border-top:1px solid #dde2ea;padding:.5rem 0}.method{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:.8em;padding:.1em .4em}.get{background:#2f7d4f}.post{background:#2b62c4}.patch{background:#a86b00}.put{background:#7a4cc2}.delete{background:#b93838}.auth{color:#5a6475;font-size:.9em}.notice{background:#fff4d6;border:1px solid #e8c66a;border-radius:4px;padding:.5rem .75rem}</style></head>
<body><nav><b>${escapeHtml(doc.info?.title ?? 'API')}</b><ul>${nav}<li><a href="#schemas">Schemas</a></li></ul><p><a href="/openapi.json">openapi.json</a></p></nav>
<main>${notice ? `<p class="notice">${inlineCode(notice)}</p>` : ''}<h1>${escapeHtml(doc.info?.title ?? 'API')} <small>${escapeHtml(doc.info?.version ?? '')}</small></h1><p>${inlineCode(doc.info?.description ?? '')}</p>
${sections.join('')}<h2 id="schemas">Schemas</h2>${schemaSections.join('')}</main></body></html>`;
}

/** The asset routes the page loads the renderer from (functions/http/routes/meta.routes.ts). */
export const docsAssetPaths = { entry: '/docs/assets/standalone.esm.js', chunks: '/docs/assets/chunks' } as const;

/**
 * The Scalar settings: everything from this origin. No default fonts (Scalar fetches them from its
 * CDN), no request proxy (Scalar's default sends "try it" requests through proxy.scalar.com for
 * non-local servers), no telemetry, no AI agent, no developer toolbar (it links to Scalar's services),
 * and no "Open API Client" link (it opens client.scalar.com with this document's URL).
 */
const scalarSettings = {
  withDefaultFonts: false,
  proxyUrl: '',
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  hideClientButton: false,
  documentDownloadType: 'json',
  authentication: { preferredSecurityScheme: 'bearerToken' },
  defaultOpenAllTags: false,
  customCss: '.open-api-client-button{display:none!important}',
};

export interface ReferencePage {
  html: string;
  /** The page's Content-Security-Policy: scripts, styles, fonts and requests from this origin only. */
  contentSecurityPolicy: string;
}

/**
 * The API reference page: Scalar's renderer, served by this API (`/docs/assets/...`), reading
 * `/openapi.json` and sending "try it" requests to the origin the page came from. Paths are relative
 * to the page, so it also works under a base path.
 */
export function renderReferencePage(title: string, rendererVersion: string): ReferencePage {
  const script = `import { createApiReference } from '.${docsAssetPaths.entry}?v=${rendererVersion}';
const base = new URL('.', location.href).href.replace(/\\/$/, '');
createApiReference('#reference', Object.assign(${JSON.stringify(scalarSettings)}, {
  url: base + '/openapi.json',
  servers: [{ url: base, description: 'This API (the page’s own origin)' }],
}));`;
  const hash = createHash('sha256').update(script).digest('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} reference</title>
</head>
<body>
<div id="reference"></div>
<noscript><p>This reference needs JavaScript. The document itself: <a href="openapi.json">openapi.json</a>.</p></noscript>
<script type="module">${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    // Scalar injects its stylesheet and binds inline styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

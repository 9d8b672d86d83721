/**
 * The capture viewer's page (no `vscode` import, so that the tests can check it): a strict
 * Content-Security-Policy, one nonce for its script and style, and the bundle written into the page
 * when it is safe to. A webview's own resources come through VS Code's webview service worker, which
 * answers late when the workbench is busy (measured in code-server: our script and style arrived
 * 0.3-0.6 s after the page navigated in first opens); written into the HTML they cost nothing more.
 */

export interface ViewerPage {
  nonce: string;
  /** the webview's source for the CSP (`webview.cspSource`) */
  cspSource: string;
  /** the bundle's files as webview URIs, linked when the bundle is not written in */
  scriptUri: string;
  styleUri: string;
  /** the capture's name (the page's title) */
  title: string;
  /** the bundle's text, from `inlineBundle`; null or undefined: link the files */
  bundle?: { script: string; style: string } | null;
}

/**
 * The bundle's script and style as they may go into the page, or null when they could end their
 * element early (a `<script`, `</script` or `</style` in them): then the page links the files. The
 * script's source-map comment is dropped (it would name a file relative to the page).
 */
export function inlineBundle(script: string, style: string): { script: string; style: string } | null {
  if (/<\/?script/i.test(script) || /<\/style/i.test(style)) return null;
  return { script: script.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n'), style };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function viewerHtml(p: ViewerPage): string {
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data:`,
    `style-src ${p.cspSource} 'nonce-${p.nonce}'`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  const b = p.bundle;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${p.nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${b ? `<style nonce="${p.nonce}">${b.style}</style>` : `<link rel="stylesheet" href="${escapeHtml(p.styleUri)}">`}
<title>${escapeHtml(p.title)}</title>
</head>
<body>
<div id="app" role="application" aria-label="MPTCP capture viewer"></div>
${b ? `<script nonce="${p.nonce}">${b.script}</script>` : `<script nonce="${p.nonce}" src="${escapeHtml(p.scriptUri)}"></script>`}
</body>
</html>`;
}

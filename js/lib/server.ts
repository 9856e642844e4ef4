/** Where the Jupyter server that serves this page is, for the routes of labwidget's extension. */

/** The Jupyter server's base URL as JupyterLab and Notebook publish it in the page, or null. */
export function serverBase(doc: Document): string | null {
  const config = doc.getElementById("jupyter-config-data")?.textContent;
  if (!config) return null;
  try {
    const base = (JSON.parse(config) as { baseUrl?: unknown }).baseUrl;
    return typeof base === "string" ? new URL(base, doc.baseURI).href : null;
  } catch {
    return null;
  }
}

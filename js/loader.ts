import type { AnyModel, RenderProps } from "@anywidget/types";
import { serverBase } from "./lib/server";

/**
 * The small module every labwidget widget ships as its `_esm`. It fetches the real front end
 * (`steps.js` / `pair.js` and their CSS, ~800 KB with KaTeX and its fonts) from labwidget's
 * server extension, under each file's content digest, so a page loads, parses and styles it once
 * however many widgets it shows; anywidget would otherwise send it inside every widget's comm
 * message, evaluate it again for each and set the whole stylesheet again (restyling the page).
 * Where the server cannot serve that exact file (no extension, another labwidget version on the
 * server), the kernel sends its own copy.
 */

/** Which bundle a widget needs: the `_bundle` trait Python sets. */
export interface Bundle {
  name: string;
  /** Content digests the server extension serves the files under; null when not built. */
  js: string | null;
  css: string | null;
  /** Set on the hidden model labwidget opens on import: warm the module once it is in. */
  warm?: boolean;
}

/** A widget's real module, as imported: it renders from the same props anywidget gives us. */
export interface WidgetModule {
  default: { render(props: RenderProps<{ _bundle: Bundle }>): unknown };
  /** Readies what the first render would otherwise set up (lib/markdown.ts `warmMarkdown`). */
  warm?: () => void;
}

/** The kernel's answer to `{kind: "bundle", id}`: the files, or why it cannot send them. */
interface BundleReply {
  kind: "bundle";
  id: string;
  esm: string;
  css: string;
  error?: string;
}

/** What loading needs from the page; tests replace it (jsdom cannot import URLs). */
export interface Environment {
  document: Document;
  importModule(url: string): Promise<WidgetModule>;
  /** The text at a same-origin URL (the page's login cookie goes with the request). */
  fetchText(url: string): Promise<string>;
  objectUrl(source: string): string;
}

export const KERNEL_TIMEOUT_MS = 20_000;

const browser: Environment = {
  get document() {
    return document;
  },
  importModule: (url) => import(/* webpackIgnore: true */ /* @vite-ignore */ url) as Promise<WidgetModule>,
  fetchText: async (url) => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${url}`);
    return response.text();
  },
  objectUrl: (source) => URL.createObjectURL(new Blob([source], { type: "text/javascript" })),
};

// This module is evaluated again for every widget, so what it loads is kept on the window.
const CACHE = "__labwidgetBundles";
type Cache = Map<string, Promise<WidgetModule>>;

function cache(): Cache {
  const holder = globalThis as typeof globalThis & { [CACHE]?: Cache };
  holder[CACHE] ??= new Map();
  return holder[CACHE];
}

/** Loads a widget's front end once per page: from the server, or else from the kernel. */
export function loadBundle(model: AnyModel, bundle: Bundle, env: Environment = browser): Promise<WidgetModule> {
  const key = `${bundle.name}:${bundle.js}:${bundle.css}`;
  const known = cache().get(key);
  if (known !== undefined) return known;
  const loading = fromServer(bundle, env).catch(() => fromKernel(model, bundle, env));
  cache().set(key, loading);
  // A failure is not kept: the next widget tries again.
  loading.catch(() => cache().delete(key));
  return loading;
}

/**
 * The bundle and its stylesheet from the server extension. The stylesheet is fetched as text and
 * added only with the module, in one `<style>`: a `<link>` that loads first restyles and repaints
 * the whole page once for the stylesheet and then again for the widget's rows.
 */
async function fromServer(bundle: Bundle, env: Environment): Promise<WidgetModule> {
  const base = serverBase(env.document);
  if (base === null || bundle.js === null || bundle.css === null) throw new Error("no server copy");
  const root = new URL("labwidget/static/", base);
  const [module, css] = await Promise.all([
    env.importModule(new URL(`${bundle.js}/${bundle.name}.js`, root).href),
    env.fetchText(new URL(`${bundle.css}/${bundle.name}.css`, root).href),
  ]);
  addStyle(env.document, bundle.name, css, "server");
  return module;
}

/** Adds a bundle's stylesheet, marked with its bundle and where it came from. */
function addStyle(doc: Document, name: string, css: string, from: "server" | "kernel"): void {
  const style = doc.createElement("style");
  style.dataset.labwidget = name;
  style.dataset.from = from;
  style.textContent = css;
  doc.head.append(style);
}

async function fromKernel(model: AnyModel, bundle: Bundle, env: Environment): Promise<WidgetModule> {
  const reply = await requestBundle(model);
  const module = await env.importModule(env.objectUrl(reply.esm));
  addStyle(env.document, bundle.name, reply.css, "kernel");
  return module;
}

function requestBundle(model: AnyModel): Promise<BundleReply> {
  const id = `bundle-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      const reply = msg as Partial<BundleReply> | null;
      if (reply?.kind !== "bundle" || reply.id !== id) return;
      finish();
      if (typeof reply.esm === "string" && typeof reply.css === "string") resolve(reply as BundleReply);
      else reject(new Error(reply.error ?? "the kernel sent no bundle"));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error("no reply from the kernel"));
    }, KERNEL_TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
    };
    model.on("msg:custom", onMessage);
    model.send({ kind: "bundle", id });
  });
}

export default {
  /**
   * Starts loading as soon as the model exists: its view is rendered a little later. The hidden
   * model labwidget opens on import (widgets/_preload.py) has no view: it loads and warms.
   */
  initialize({ model }: { model: AnyModel<{ _bundle: Bundle }> }) {
    const bundle = model.get("_bundle");
    loadBundle(model, bundle)
      .then((module) => {
        if (bundle.warm === true) module.warm?.();
      })
      .catch(() => {});
  },

  async render(props: RenderProps<{ _bundle: Bundle }>) {
    const bundle = props.model.get("_bundle");
    // Devtools and the benchmarks time a widget from here: loading its bundle included.
    performance.mark(`labwidget:${bundle.name}:render`);
    let widget: WidgetModule;
    try {
      widget = await loadBundle(props.model, bundle);
    } catch (error) {
      props.el.textContent = `labwidget could not load its front end: ${(error as Error).message}`;
      return undefined;
    }
    return widget.default.render(props);
  },
};

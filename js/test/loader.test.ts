import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { serverBase } from "../lib/server";
import loader, { type Bundle, type Environment, KERNEL_TIMEOUT_MS, loadBundle, type WidgetModule } from "../loader";
import { createFakeModel } from "./fake_model";
import { setJupyterConfig } from "./jupyter_page";

const BUNDLE: Bundle = { name: "steps", js: "aa11", css: "bb22" };
const WIDGET: WidgetModule = { default: { render: () => "rendered" } };

/** An environment whose imports and fetches are recorded; URLs `failing` names fail (404). */
function fakeEnvironment(failing: (url: string) => boolean = () => false) {
  const imported: string[] = [];
  const fetched: string[] = [];
  const env: Environment = {
    document,
    importModule: (url) => {
      imported.push(url);
      return failing(url) ? Promise.reject(new Error(`404 ${url}`)) : Promise.resolve(WIDGET);
    },
    fetchText: (url) => {
      fetched.push(url);
      return failing(url) ? Promise.reject(new Error(`404 ${url}`)) : Promise.resolve(`/* ${url} */`);
    },
    objectUrl: (source) => `blob:${source}`,
  };
  return { env, imported, fetched };
}

/** The stylesheets the loader added, each as `<where it came from>: <text>`. */
const styles = () =>
  Array.from(document.head.querySelectorAll<HTMLStyleElement>("style[data-labwidget=steps]"), (style) => `${style.dataset.from}: ${style.textContent}`);

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  delete (globalThis as Record<string, unknown>).__labwidgetBundles;
});

afterEach(() => {
  document.head.replaceChildren();
  setJupyterConfig(null);
  vi.useRealTimers();
});

describe("serverBase", () => {
  test("reads the base URL JupyterLab publishes in the page, as an absolute URL", () => {
    setJupyterConfig("/user/ada/");
    expect(serverBase(document)).toBe(new URL("/user/ada/", document.baseURI).href);
    setJupyterConfig(null);
    expect(serverBase(document)).toBeNull();
  });
});

describe("loadBundle", () => {
  test("imports the bundle and its stylesheet from the server extension, once per page", async () => {
    setJupyterConfig("/lab-base/");
    const { env, imported, fetched } = fakeEnvironment();
    const model = createFakeModel({ _bundle: BUNDLE });
    await expect(loadBundle(model, BUNDLE, env)).resolves.toBe(WIDGET);
    const root = new URL("/lab-base/labwidget/static/", document.baseURI).href;
    expect(imported).toEqual([`${root}aa11/steps.js`]);
    expect(fetched).toEqual([`${root}bb22/steps.css`]);
    expect(styles()).toEqual([`server: /* ${root}bb22/steps.css */`]);
    // A second widget on the page reuses both: nothing is fetched, added or asked again.
    await expect(loadBundle(model, BUNDLE, env)).resolves.toBe(WIDGET);
    expect(imported).toHaveLength(1);
    expect(fetched).toHaveLength(1);
    expect(styles()).toHaveLength(1);
    expect(model.sent).toEqual([]);
  });

  test("the stylesheet is added only with the module, so the page restyles once", async () => {
    setJupyterConfig("/");
    const { env } = fakeEnvironment();
    let resolveModule: (module: WidgetModule) => void = () => {};
    env.importModule = () => new Promise((resolve) => (resolveModule = resolve));
    const loading = loadBundle(createFakeModel({ _bundle: BUNDLE }), BUNDLE, env);
    await flush();
    expect(styles()).toEqual([]); // the stylesheet has arrived, the module not yet
    resolveModule(WIDGET);
    await expect(loading).resolves.toBe(WIDGET);
    expect(styles()).toHaveLength(1);
  });

  test("asks the kernel for its copy when the server does not have this exact bundle", async () => {
    setJupyterConfig("/");
    const { env, imported } = fakeEnvironment((url) => url.includes("/labwidget/static/"));
    const model = createFakeModel({ _bundle: BUNDLE });
    const loading = loadBundle(model, BUNDLE, env);
    await flush();
    const [request] = model.sent as { kind: string; id: string }[];
    expect(request.kind).toBe("bundle");
    model.emit("msg:custom", { kind: "bundle", id: "someone-else", esm: "wrong", css: "" }, []);
    model.emit("msg:custom", { kind: "bundle", id: request.id, esm: "export default {}", css: ".lw {}" }, []);
    await expect(loading).resolves.toBe(WIDGET);
    expect(imported.at(-1)).toBe("blob:export default {}");
    expect(styles()).toEqual(["kernel: .lw {}"]); // the server's, which failed, was not added
    expect(model.listenerCount()).toBe(0);
  });

  test("goes straight to the kernel outside a Jupyter server's page", async () => {
    const { env } = fakeEnvironment();
    const model = createFakeModel({ _bundle: BUNDLE });
    const loading = loadBundle(model, BUNDLE, env);
    await flush();
    const [request] = model.sent as { id: string }[];
    model.emit("msg:custom", { kind: "bundle", id: request.id, esm: "m", css: "c" }, []);
    await expect(loading).resolves.toBe(WIDGET);
    expect(styles()).toEqual(["kernel: c"]);
  });

  test("a kernel that cannot send its copy says why", async () => {
    const { env } = fakeEnvironment();
    const model = createFakeModel({ _bundle: BUNDLE });
    const loading = loadBundle(model, BUNDLE, env);
    await flush();
    const [request] = model.sent as { id: string }[];
    model.emit("msg:custom", { kind: "bundle", id: request.id, error: "run `npm run build`" }, []);
    await expect(loading).rejects.toThrow("run `npm run build`");
  });

  test("a kernel that never answers fails the load, and the next widget tries again", async () => {
    vi.useFakeTimers();
    const { env } = fakeEnvironment();
    const model = createFakeModel({ _bundle: BUNDLE });
    const loading = loadBundle(model, BUNDLE, env);
    const failed = expect(loading).rejects.toThrow("no reply from the kernel");
    await vi.advanceTimersByTimeAsync(KERNEL_TIMEOUT_MS);
    await failed;
    expect(model.listenerCount()).toBe(0);
    void loadBundle(model, BUNDLE, env).catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(model.sent).toHaveLength(2);
  });
});

describe("the loader widget", () => {
  test("starts loading as soon as its model exists, before any view renders", async () => {
    const model = createFakeModel({ _bundle: BUNDLE });
    loader.initialize({ model });
    await flush();
    expect((model.sent as { kind: string }[]).map((m) => m.kind)).toEqual(["bundle"]);
  });

  test("warms the loaded module only for the hidden model opened on import", async () => {
    const warm = vi.fn();
    const module = { default: { render: () => undefined }, warm };
    (globalThis as Record<string, unknown>).__labwidgetBundles = new Map([
      ["steps:aa11:bb22", Promise.resolve(module)],
    ]);
    loader.initialize({ model: createFakeModel({ _bundle: BUNDLE }) });
    await flush();
    expect(warm).not.toHaveBeenCalled();
    loader.initialize({ model: createFakeModel({ _bundle: { ...BUNDLE, warm: true } }) });
    await flush();
    expect(warm).toHaveBeenCalledOnce();
  });

  test("renders through the loaded module with anywidget's props", async () => {
    setJupyterConfig("/");
    const render = vi.fn(() => "cleanup");
    const model = createFakeModel({ _bundle: BUNDLE });
    (globalThis as Record<string, unknown>).__labwidgetBundles = new Map([
      ["steps:aa11:bb22", Promise.resolve({ default: { render } })],
    ]);
    const props = { model, el: document.createElement("div") } as unknown as Parameters<typeof loader.render>[0];
    await expect(loader.render(props)).resolves.toBe("cleanup");
    expect(render).toHaveBeenCalledWith(props);
  });

  test("says why it cannot render when the front end cannot be loaded", async () => {
    const model = createFakeModel({ _bundle: { name: "steps", js: null, css: null } as Bundle });
    const el = document.createElement("div");
    const props = { model, el } as unknown as Parameters<typeof loader.render>[0];
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }); // performance stays real
    const rendering = loader.render(props);
    await vi.advanceTimersByTimeAsync(KERNEL_TIMEOUT_MS);
    await expect(rendering).resolves.toBeUndefined();
    expect(el.textContent).toBe("labwidget could not load its front end: no reply from the kernel");
    expect(performance.getEntriesByName("labwidget:steps:render").length).toBeGreaterThan(0);
  });
});

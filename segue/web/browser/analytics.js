/*
 * Segue's browser library: the analytics.js API, sending to Segue.
 *
 * It is the last part of a source's bundle (/analytics.js/v1/<writeKey>/analytics.min.js):
 *
 *   window.segueSettings = {...};   the source's settings, in Segment's CDN-settings shape
 *   <device-mode plugin files>      each sets window.segueDevice_<slug> = function (settings) {...}
 *   <this file>
 *
 * It can also be loaded on its own: it then fetches the settings from Segue like analytics.js
 * fetches them from Segment's CDN. Plain modern JavaScript, no build step.
 *
 * Reading order: helpers; identity storage (cookies and localStorage); the event factory (page
 * context, campaign, message fields); device-mode plugins; delivery to Segue (batching, retry,
 * offline queue, beacon on page hide); the Analytics class; start-up, which takes over the
 * Segment snippet's `window.analytics` stub.
 *
 * Where a comment says "as analytics.js", the behaviour follows Segment's analytics-next
 * (packages/browser/src); the facts come from reading it, the code is this project's own.
 */
(function () {
  "use strict";

  const VERSION = "0.1.0";
  const LIBRARY = { name: "analytics.js", version: `segue-${VERSION}` };
  const OWN_SCRIPT = document.currentScript; // only known while this file first runs
  const BUNDLE_URL = /^(https?:\/\/.+?)\/analytics\.js\/v1\/([^/]+)\/analytics[^/]*\.js/;
  const DEFAULT_CDN = "https://cdn.segment.com";
  const CALLBACK_TIMEOUT = 300; // ms a call's callback waits for delivery, as analytics.js

  // ------------------------------------------------------------------------------ helpers

  const isObject = (value) => Object.prototype.toString.call(value) === "[object Object]";
  const isString = (value) => typeof value === "string";
  const isNumber = (value) => typeof value === "number" && !Number.isNaN(value);
  const isFunction = (value) => typeof value === "function";
  const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const byteLength = (value) => new TextEncoder().encode(JSON.stringify(value)).length;
  const warn = (...args) => console.warn("[segue analytics.js]", ...args);

  /** Run `fn`, log instead of throwing: a faulty callback or plugin never breaks the library. */
  function safely(fn, ...args) {
    try {
      return fn(...args);
    } catch (error) {
      warn(error);
    }
  }

  /** A random v4 UUID (crypto.randomUUID exists on https pages only, getRandomValues everywhere). */
  function uuid() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  /** Set `value` at a dotted `path` of `target`, creating objects on the way. */
  function setPath(target, path, value) {
    const keys = path.split(".");
    const last = keys.pop();
    let node = target;
    for (const key of keys) node = isObject(node[key]) ? node[key] : (node[key] = {});
    node[last] = value;
  }

  /** A value stored as JSON, or the raw string when it is not JSON (as analytics.js reads). */
  function parseStored(raw) {
    if (raw === null || raw === undefined) return null;
    try {
      return JSON.parse(raw) ?? null;
    } catch {
      return raw;
    }
  }

  // ---------------------------------------------------------------------- identity storage
  // As analytics.js: ids live in localStorage *and* a cookie (read in that order, then written
  // back to both), traits in localStorage only, and in memory when storage is blocked.
  // localStorage holds JSON; a cookie holds a string as is, anything else as JSON. Cookies last
  // a year, path /, SameSite=Lax, on the widest domain that accepts them (none on localhost).

  const ONE_YEAR = 365 * 24 * 60 * 60;
  const memory = new Map();

  const memoryStore = {
    get: (key) => (memory.has(key) ? memory.get(key) : null),
    set: (key, value) => memory.set(key, value),
    remove: (key) => memory.delete(key),
  };

  const localStore = {
    get: (key) => parseStored(localStorage.getItem(key)),
    set: (key, value) => localStorage.setItem(key, JSON.stringify(value)),
    remove: (key) => localStorage.removeItem(key),
  };

  const cookieStore = {
    get(name) {
      for (const pair of document.cookie.split("; ")) {
        const at = pair.indexOf("=");
        if (at > 0 && decodeURIComponent(pair.slice(0, at)) === name) {
          return parseStored(decodeURIComponent(pair.slice(at + 1)));
        }
      }
      return null;
    },
    set: (name, value) => writeCookie(name, isString(value) ? value : JSON.stringify(value), ONE_YEAR),
    remove: (name) => writeCookie(name, "", 0),
  };

  function writeCookie(name, value, maxAge) {
    const domain = cookieDomain();
    document.cookie = `${encodeURIComponent(name)}=${encodeURIComponent(value)}; max-age=${maxAge}; path=/; ` +
      `SameSite=Lax${domain ? `; domain=${domain}` : ""}`;
  }

  let widestDomain; // computed once; "" means "this host only"

  /** The widest domain that takes a cookie, e.g. example.com for shop.example.com (as analytics.js). */
  function cookieDomain() {
    if (widestDomain !== undefined) return widestDomain;
    widestDomain = "";
    const parts = location.hostname.split(".");
    const isIpAddress = parts.length === 4 && parseInt(parts[3], 10) > 0;
    if (parts.length <= 1 || isIpAddress) return widestDomain;
    for (let index = parts.length - 2; index >= 0; index--) {
      const domain = parts.slice(index).join(".");
      document.cookie = `__tld__=1; domain=.${domain}; path=/`;
      if (document.cookie.includes("__tld__=1")) {
        document.cookie = `__tld__=; domain=.${domain}; path=/; max-age=0`;
        return (widestDomain = domain);
      }
    }
    return widestDomain;
  }

  /** One stored value, kept in several stores; the first store that has it wins. */
  class Slot {
    constructor(key, stores) {
      this.key = key;
      this.stores = stores;
    }

    get() {
      for (const store of this.stores) {
        const value = safely(store.get, this.key);
        if (value !== null && value !== undefined) return value;
      }
      return null;
    }

    /** Read, then write back to every store (a cleared cookie comes back from localStorage). */
    getAndSync() {
      const found = this.get();
      const value = isNumber(found) ? String(found) : found;
      this.set(value);
      return value;
    }

    set(value) {
      for (const store of this.stores) {
        safely(() => (value === null ? store.remove(this.key) : store.set(this.key, value)));
      }
    }
  }

  const ID_STORES = [localStore, cookieStore, memoryStore];
  const TRAIT_STORES = [localStore, memoryStore];

  /** The user (or the group): id, anonymous id and traits, persisted as analytics.js does. */
  class Identity {
    constructor({ idKey, traitsKey, anonymousIdKey }) {
      this._id = new Slot(idKey, ID_STORES);
      this._traits = new Slot(traitsKey, TRAIT_STORES);
      this._anonymousId = anonymousIdKey ? new Slot(anonymousIdKey, ID_STORES) : null;
    }

    id(value) {
      const previous = this._id.getAndSync();
      if (value !== undefined) {
        this._id.set(value);
        // as analytics.js: a switch from one known user to another starts a new anonymous id
        if (value !== previous && previous !== null && value !== null) this.anonymousId(null);
      }
      return this._id.getAndSync();
    }

    /** The anonymous id, created on first use; a group has none. */
    anonymousId(value) {
      if (!this._anonymousId) return undefined;
      if (value === undefined) {
        const known = this._anonymousId.getAndSync();
        if (known) return known;
        value = uuid();
      }
      this._anonymousId.set(value);
      return this._anonymousId.getAndSync();
    }

    traits(value) {
      if (value !== undefined) this._traits.set(value ?? {});
      return this._traits.get() ?? {};
    }

    /** As analytics.js: traits add up while the user stays the same, and start over for a new one. */
    identify(id, traits = {}) {
      const current = this.id();
      const merged = current === null || current === id ? { ...this.traits(), ...traits } : traits;
      if (id) this.id(id);
      this.traits(merged);
    }

    reset() {
      this._id.set(null);
      this._anonymousId?.set(null);
      this._traits.set(null);
    }
  }

  // -------------------------------------------------------------------------- page context

  /** context.page as analytics.js builds it: path, referrer, search, title, url (no #hash). */
  function currentPage() {
    const canonical = document.querySelector("link[rel='canonical']");
    return pageFrom({
      c: (canonical && canonical.getAttribute("href")) || undefined,
      p: location.pathname, u: location.href, s: location.search, t: document.title, r: document.referrer,
    });
  }

  /** A page context from the short form the Segment snippet (5.x) appends to buffered calls;
   * a canonical link, when the page has one, gives the path and url. */
  function pageFrom({ c: canonical, p: path, u: url, s: search, t: title, r: referrer }) {
    if (!canonical) return { path, referrer, search, title, url: url.split("#")[0] };
    return {
      path: canonicalPath(canonical), referrer, search, title,
      url: canonical.includes("?") ? canonical : canonical + search,
    };
  }

  function canonicalPath(canonical) {
    try {
      return new URL(canonical).pathname;
    } catch {
      return canonical.startsWith("/") ? canonical : `/${canonical}`;
    }
  }

  /** The snippet's buffered page context when it is a call's last argument (removed from it). */
  function popBufferedPage(args) {
    const last = args[args.length - 1];
    return isObject(last) && last.__t === "bpc" ? pageFrom(args.pop()) : undefined;
  }

  /** context.campaign from utm_* query parameters: utm_campaign becomes `name`, the others
   * (source, medium, term, content...) keep their suffix; `+` reads as a space. */
  function campaignFrom(search) {
    const campaign = {};
    for (const part of search.replace(/^\?/, "").replace(/\?/g, "&").split("&")) {
      const [key, value = ""] = part.split("=");
      if (!key.startsWith("utm_") || key.length <= 4) continue;
      const field = key.slice(4) === "campaign" ? "name" : key.slice(4);
      campaign[field] = decodeQueryValue(value);
    }
    return campaign;
  }

  function decodeQueryValue(value) {
    try {
      return decodeURIComponent(value.replace(/\+/g, " "));
    } catch {
      return value;
    }
  }

  // ------------------------------------------------------------------------------- events

  const TOP_LEVEL_OPTIONS = ["userId", "anonymousId", "timestamp", "messageId"];

  /** A call's options, split as analytics.js does: these four keys go to the top of the
   * message, `integrations` to its integrations, `context` and every other key into context. */
  function splitOptions(options) {
    const context = copy(options.context) || {};
    const top = {};
    for (const [key, value] of Object.entries(options)) {
      if (key === "context" || key === "integrations" || value === undefined) continue;
      if (TOP_LEVEL_OPTIONS.includes(key)) top[key] = value;
      else setPath(context, key, copy(value));
    }
    if (top.timestamp instanceof Date) top.timestamp = top.timestamp.toISOString();
    return { context, top };
  }

  /** A complete Segment message of `type`, with the fields analytics.js gives it. */
  function buildEvent(analytics, type, fields, options, page = currentPage()) {
    if (options.anonymousId) analytics.user().anonymousId(options.anonymousId); // as analytics.js
    const { context, top } = splitOptions(options);
    const event = {
      timestamp: new Date().toISOString(),
      ...copy(fields),
      type,
      context,
      integrations: { ...analytics._integrationFlags(), ...copy(options.integrations) },
      ...top,
      messageId: options.messageId || `ajs-next-${Date.now()}-${uuid()}`,
    };
    addIdentity(event, analytics.user());
    addPage(event, page);
    enrich(event.context);
    return event;
  }

  /** The stored user id wins over the call's (as analytics.js), except for alias, whose
   * userId is the new id by definition. */
  function addIdentity(event, user) {
    const userId = user.id();
    if (userId && event.type !== "alias") event.userId = userId;
    event.anonymousId = user.anonymousId();
  }

  /** context.page; a page call also gets the page fields as properties (its own ones win). */
  function addPage(event, page) {
    let fromProperties = {};
    if (event.type === "page") {
      const properties = event.properties || {};
      fromProperties = Object.fromEntries(Object.keys(page).filter((key) => key in properties)
        .map((key) => [key, properties[key]]));
      event.properties = { ...page, ...properties, ...(event.name ? { name: event.name } : {}) };
    }
    event.context.page = { ...page, ...fromProperties, ...event.context.page };
  }

  /** What analytics.js adds about the browser: user agent, locale, library, campaign, time zone. */
  function enrich(context) {
    context.userAgent = navigator.userAgent;
    if (navigator.userAgentData) context.userAgentData = navigator.userAgentData.toJSON();
    if (context.locale === undefined && navigator.language) context.locale = navigator.language;
    context.library ??= { ...LIBRARY };
    const search = context.page.search || "";
    if (search && !context.campaign) context.campaign = campaignFrom(search);
    safely(() => (context.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone));
  }

  /** The message as Segue receives it (the writeKey is added by the delivery). */
  function toSegueMessage(event, user) {
    const message = copy(event);
    if (message.type === "track") delete message.traits;
    if (message.type === "alias") message.previousId ??= user.id() ?? user.anonymousId();
    if (message.userId === null || message.userId === undefined) delete message.userId;
    return message;
  }

  // ------------------------------------------------------------------ argument resolution
  // The call shapes analytics.js accepts; any argument may be left out.

  /** track(name, properties?, options?, callback?) or track({event, properties}, options?, callback?) */
  function trackArguments([first, second, third, fourth]) {
    const name = isObject(first) ? first.event : first;
    if (!isString(name) || !name) throw new Error("Event missing");
    const properties = isObject(first) ? first.properties ?? {} : isObject(second) ? second : {};
    const options = isObject(first) ? (isObject(second) ? second : {}) : isObject(third) ? third : {};
    const callback = [first, second, third, fourth].find(isFunction);
    return [name, properties, options, callback];
  }

  /** page(category?, name?, properties?, options?, callback?): one string is the name, two are
   * category and name; one object is the properties, two are properties and options. */
  function pageArguments(args) {
    const strings = args.filter(isString);
    let category = null;
    let name = null;
    if (strings.length === 1) name = isString(args[1]) ? args[1] : strings[0];
    if (strings.length >= 2) {
      category = isString(args[0]) ? args[0] : null;
      name = isString(args[1]) ? args[1] : null;
    }
    const objects = args.filter(isObject);
    let properties = objects[0] ?? {};
    let options = objects[1] ?? {};
    if (objects.length === 1 && !isObject(args[2]) && isObject(args[3])) [properties, options] = [{}, args[3]];
    return [category, name, properties, options, args.find(isFunction)];
  }

  /** identify/group(id?, traits?, options?, callback?): without an id, the known one. */
  function userArguments(args, identity) {
    const values = {};
    const expected = ["callback", "options", "traits", "id"];
    for (const arg of args) {
      let current = expected.pop();
      if (current === "id") {
        if (isString(arg) || isNumber(arg)) {
          values.id = String(arg);
          continue;
        }
        if (arg === null || arg === undefined) continue;
        current = expected.pop();
      }
      if ((current === "traits" || current === "options") && (arg == null || isObject(arg))) values[current] = arg;
      if (isFunction(arg)) {
        values.callback = arg;
        break;
      }
    }
    return [values.id ?? identity.id(), values.traits ?? {}, values.options ?? {}, values.callback];
  }

  /** alias(to, from?, options?, callback?); numbers are taken as strings. */
  function aliasArguments(args) {
    const normalized = args.map((arg) => (isNumber(arg) ? String(arg) : arg));
    const [to, from = null] = normalized.filter(isString);
    return [to, from, normalized.find(isObject) ?? {}, normalized.find(isFunction)];
  }

  // ------------------------------------------------------------------------------ plugins
  // A device-mode destination is an analytics-next destination plugin: {name, type, version,
  // isLoaded(), load(ctx, analytics), track(ctx), page(ctx), identify(ctx), group(ctx), alias(ctx)}.

  /** The `ctx` a plugin receives: analytics-next's Context, reduced to what plugins use. */
  class Context {
    constructor(event) {
      this.id = uuid();
      this.event = event;
      this.attempts = 0;
      this.stats = { increment() {}, gauge() {} };
    }

    updateEvent(path, value) {
      setPath(this.event, path, value);
      return this.event;
    }

    log(level, message, extras) {
      if (level === "error" || level === "warn") warn(message, extras ?? "");
    }

    isCancelled() {
      return false;
    }
  }

  /** One plugin, loaded once; it gets its calls in order, each with its own copy of the event. */
  class Destination {
    constructor(name, plugin) {
      this.name = name;
      this.plugin = plugin;
      this.loaded = Promise.resolve(false);
      this.calls = Promise.resolve();
    }

    load(analytics) {
      const ctx = new Context({ type: "track", event: "system" }); // as analytics.js
      this.loaded = Promise.resolve()
        .then(() => this.plugin.load(ctx, analytics))
        .then(() => true, (error) => {
          warn(`${this.name} did not load`, error);
          return false;
        });
      return this.loaded;
    }

    /** The call's integrations option, as analytics.js reads it: {"All": false, "Hotjar": true}. */
    accepts(integrations) {
      const own = integrations[this.name] ?? integrations[this.plugin.name];
      return (own ?? integrations.All) !== false;
    }

    deliver(event) {
      const method = this.plugin[event.type];
      if (!isFunction(method)) return Promise.resolve();
      this.calls = this.calls
        .then(async () => (await this.loaded) && method.call(this.plugin, new Context(copy(event))))
        .catch((error) => warn(`${this.name} failed on ${event.type}`, error));
      return this.calls;
    }
  }

  const PLUGIN_FIELDS = ["name", "type", "version", "load", "isLoaded"];

  function isPlugin(candidate) {
    const missing = PLUGIN_FIELDS.filter((field) => !candidate || candidate[field] === undefined);
    if (missing.length) warn(`not a plugin (no ${missing.join(", ")})`, candidate);
    return missing.length === 0;
  }

  /** As analytics.js: a remote plugin is off when the load options turn it off by name, or say
   * {All: false} without turning it on. */
  function pluginDisabled(integrations, remote) {
    const named = integrations[remote.creationName] ?? integrations[remote.name];
    return named === false || (integrations.All === false && !named);
  }

  /** The Destinations made from settings.remotePlugins (the page's global, or its script). */
  async function remoteDestinations(remotePlugins, integrations) {
    const made = await Promise.all(remotePlugins.filter((remote) => !pluginDisabled(integrations, remote))
      .map((remote) => remoteDestination(remote, integrations)));
    return made.flat();
  }

  async function remoteDestination(remote, integrations) {
    try {
      const factory = await pluginFactory(remote);
      const overrides = isObject(integrations[remote.name]) ? integrations[remote.name] : {};
      const made = await factory({ ...remote.settings, ...overrides });
      const plugins = (Array.isArray(made) ? made : [made]).filter(isPlugin);
      return plugins.map((plugin) => new Destination(remote.creationName || remote.name, plugin));
    } catch (error) {
      warn(`could not load the plugin ${remote.name}`, error);
      return [];
    }
  }

  async function pluginFactory({ libraryName, url }) {
    if (!isFunction(window[libraryName])) await loadScript(url);
    if (!isFunction(window[libraryName])) throw new Error(`${url} did not define ${libraryName}`);
    return window[libraryName];
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${src}`));
      (document.head || document.documentElement).appendChild(script);
    });
  }

  // ------------------------------------------------------------------- delivery to Segue
  // Every message goes into an outbox mirrored in localStorage and leaves it once Segue
  // answered (or gave a final no). Sent one by one to /t /p /i /g /a /s by default, or in
  // batches to /b (deliveryStrategy {strategy: "batching", config: {size, timeout}}, as
  // analytics.js). The body is JSON sent as text/plain with the writeKey inside it, so a
  // browser needs no CORS preflight. Network errors, 5xx and 429 are retried with exponential
  // backoff; offline, messages wait for the `online` event or the next page load; when the
  // page is hidden, the waiting ones leave with navigator.sendBeacon.

  const RETRY = { maxAttempts: 10, firstDelay: 500, maxDelay: 60_000, jitter: 0.1, maxRetryAfter: 300 };
  const RETRIED_STATUSES = [408, 410, 429, 460]; // and 5xx, but for the three below
  const DROPPED_STATUSES = [501, 505, 511];
  const BATCH_BYTES = 450 * 1024; // analytics.js stops 50 KB short of the API's 500 KB
  const BEACON_BYTES = 60 * 1024; // browsers refuse beacons beyond 64 KB in flight
  const OUTBOX_LIMIT = 1000;

  function isRetried(status) {
    return RETRIED_STATUSES.includes(status) || (status >= 500 && !DROPPED_STATUSES.includes(status));
  }

  /** Exponential backoff: 0.5 s, 1 s, 2 s... up to a minute, give or take 10 %. */
  function backoff(failures) {
    const delay = Math.min(RETRY.firstDelay * 2 ** (failures - 1), RETRY.maxDelay);
    return delay * (1 + (Math.random() * 2 - 1) * RETRY.jitter);
  }

  function retryAfter(response) {
    const seconds = parseInt(response.headers.get("Retry-After"), 10);
    return response.status === 429 && seconds >= 0 ? Math.min(seconds, RETRY.maxRetryAfter) * 1000 : undefined;
  }

  /** Unacknowledged messages in localStorage, by messageId. Tabs share it: each adds and removes
   * its own messages, and a page that starts takes over what earlier ones left (Segue drops a
   * messageId it already has, so a message sent twice is stored once). */
  class Outbox {
    constructor(writeKey) {
      this.key = `segue:outbox:${writeKey}`;
    }

    read() {
      const stored = safely(localStore.get, this.key);
      return isObject(stored) ? stored : {};
    }

    save(entries) {
      const all = this.read();
      for (const entry of entries) all[entry.message.messageId] = entry;
      this.write(all);
    }

    forget(entries) {
      const all = this.read();
      for (const entry of entries) delete all[entry.message.messageId];
      this.write(all);
    }

    write(all) {
      const ids = Object.keys(all);
      for (const id of ids.slice(0, Math.max(0, ids.length - OUTBOX_LIMIT))) delete all[id]; // oldest first
      safely(() => (Object.keys(all).length ? localStore.set(this.key, all) : localStore.remove(this.key)));
    }
  }

  class Delivery {
    constructor({ writeKey, apiHost, protocol, deliveryStrategy }, onFailure) {
      this.writeKey = writeKey;
      this.endpoint = /^https?:\/\//.test(apiHost) ? apiHost : `${protocol || "https"}://${apiHost}`;
      this.batching = deliveryStrategy?.strategy === "batching";
      this.batchSize = deliveryStrategy?.config?.size ?? 10;
      this.batchTimeout = deliveryStrategy?.config?.timeout ?? 5000;
      this.onFailure = onFailure;
      this.outbox = new Outbox(writeKey);
      this.waiting = Object.values(this.outbox.read()); // left by an earlier page: sent first
      this.failures = 0; // consecutive failed requests; the backoff grows with them
      this.pausedUntil = 0;
      this.timer = null;
      this.listen();
      if (this.waiting.length) this.flush();
    }

    add(message) {
      const entry = { message: { ...message, writeKey: this.writeKey }, attempts: 0 };
      this.outbox.save([entry]);
      this.waiting.push(entry);
      this.schedule();
    }

    listen() {
      window.addEventListener("online", () => {
        this.pausedUntil = 0;
        this.flush();
      });
      window.addEventListener("pagehide", () => this.sendBeacons());
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "hidden") this.sendBeacons();
      });
    }

    /** Send now, or when the batch timeout or the retry pause ends; offline, wait for `online`. */
    schedule() {
      if (!navigator.onLine || !this.waiting.length) return;
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) return this.wakeIn(pause);
      if (!this.batching || this.waiting.length >= this.batchSize) return this.flush();
      this.wakeIn(this.batchTimeout);
    }

    /** Flush in `ms`, unless a flush is already due sooner. */
    wakeIn(ms) {
      const at = Date.now() + ms;
      if (this.timer && this.wakeAt <= at) return;
      clearTimeout(this.timer);
      this.wakeAt = at;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, ms);
    }

    flush() {
      clearTimeout(this.timer);
      this.timer = null;
      if (!navigator.onLine || this.pausedUntil > Date.now()) return this.schedule();
      if (!this.batching) return this.waiting.splice(0).forEach((entry) => this.send([entry]));
      this.takeBatches(this.batchSize, BATCH_BYTES).forEach((entries) => this.send(entries));
    }

    /** Empties `waiting` into batches of at most `maxItems` messages and `maxBytes`. */
    takeBatches(maxItems, maxBytes) {
      const batches = [];
      let current = [];
      let bytes = 0;
      for (const entry of this.waiting.splice(0)) {
        const size = byteLength(entry.message);
        if (current.length && (current.length >= maxItems || bytes + size > maxBytes)) {
          batches.push(current);
          [current, bytes] = [[], 0];
        }
        current.push(entry);
        bytes += size;
      }
      if (current.length) batches.push(current);
      return batches;
    }

    async send(entries) {
      entries.forEach((entry) => entry.attempts++);
      const single = !this.batching;
      const path = single ? entries[0].message.type.charAt(0) : "b";
      const body = single ? { ...entries[0].message, sentAt: new Date().toISOString() } : this.batchBody(entries);
      const outcome = await this.post(`${this.endpoint}/${path}`, body);
      if (outcome.retry) return this.retryLater(entries, outcome.after, outcome.reason);
      this.failures = 0;
      this.outbox.forget(entries);
      if (outcome.reason) this.onFailure(outcome.reason, entries);
    }

    /** As analytics.js: one sentAt for the whole batch, none on its messages. */
    batchBody(entries) {
      const batch = entries.map(({ message }) => {
        const { sentAt, ...rest } = message;
        return rest;
      });
      return { batch, sentAt: new Date().toISOString(), writeKey: this.writeKey };
    }

    /** POST text/plain JSON: {} when Segue took it, {retry, after?} or a final {reason}. */
    async post(url, body) {
      try {
        const response = await fetch(url, {
          method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body),
        });
        if (response.status < 400) return {};
        const reason = new Error(`Segue answered ${response.status}`);
        return isRetried(response.status) ? { retry: true, after: retryAfter(response), reason } : { reason };
      } catch (error) {
        return { retry: true, reason: error }; // network error, or offline
      }
    }

    retryLater(entries, after, reason) {
      const kept = entries.filter((entry) => entry.attempts < RETRY.maxAttempts);
      const dropped = entries.filter((entry) => !kept.includes(entry));
      if (dropped.length) {
        this.outbox.forget(dropped);
        this.onFailure(reason, dropped);
      }
      this.outbox.save(kept);
      if (this.pausedUntil <= Date.now()) { // requests failing together count as one failure
        this.failures++;
        this.pausedUntil = Date.now() + (after ?? backoff(this.failures));
      }
      this.waiting.unshift(...kept);
      this.schedule();
    }

    /** Page hidden or leaving: hand what waits to the browser, which sends it even after the
     * page is gone. Offline, or while Segue fails, they stay in the outbox for the next page. */
    sendBeacons() {
      if (!navigator.sendBeacon || !navigator.onLine || this.pausedUntil > Date.now()) return;
      const batches = this.takeBatches(Infinity, BEACON_BYTES);
      while (batches.length) {
        const blob = new Blob([JSON.stringify(this.batchBody(batches[0]))], { type: "text/plain" });
        if (!navigator.sendBeacon(`${this.endpoint}/b`, blob)) break;
        this.outbox.forget(batches.shift());
      }
      this.waiting.unshift(...batches.flat());
    }
  }

  // ------------------------------------------------------------------------------ settings

  /** The source's settings: the bundle's own when they are for this write key, else fetched
   * from `{cdn}/v1/projects/{writeKey}/settings` as analytics.js does. */
  async function loadSettings(writeKey, options) {
    if (isObject(options.cdnSettings)) return options.cdnSettings;
    const embedded = window.segueSettings;
    if (embedded?.integrations?.["Segment.io"]?.apiKey === writeKey) return embedded;
    const response = await fetch(`${cdnUrl(options)}/v1/projects/${encodeURIComponent(writeKey)}/settings`);
    if (!response.ok) throw new Error(`the settings request answered ${response.status}`);
    return response.json();
  }

  /** options.cdnURL, else the snippet's analytics._cdn, else where this script came from. */
  function cdnUrl(options) {
    const cdn = options.cdnURL || window.analytics?._cdn || bundleMatch()?.[1] || scriptOrigin() || DEFAULT_CDN;
    return cdn.replace(/\/+$/, "");
  }

  /** [url, cdn, writeKey] of the bundle's script tag (/analytics.js/v1/<key>/analytics...js). */
  function bundleMatch() {
    const scripts = [OWN_SCRIPT, ...document.querySelectorAll("script[src]")];
    for (const script of scripts) {
      const match = script && BUNDLE_URL.exec(script.src);
      if (match) return match;
    }
    return null;
  }

  function scriptOrigin() {
    return OWN_SCRIPT?.src ? new URL(OWN_SCRIPT.src).origin : undefined;
  }

  /** Load options' integrations["Segment.io"] (apiHost, protocol, deliveryStrategy) win. */
  function segmentSettings(settings, options) {
    const fromSettings = settings.integrations?.["Segment.io"] || {};
    const fromOptions = isObject(options.integrations?.["Segment.io"]) ? options.integrations["Segment.io"] : {};
    return { ...fromSettings, ...fromOptions };
  }

  // ---------------------------------------------------------------------------- Analytics

  class Analytics {
    constructor() {
      this.VERSION = VERSION;
      this.initialized = false;
      this._user = new Identity({
        idKey: "ajs_user_id", traitsKey: "ajs_user_traits", anonymousIdKey: "ajs_anonymous_id",
      });
      this._group = new Identity({ idKey: "ajs_group_id", traitsKey: "ajs_group_properties" });
      this._listeners = {};
      this._integrations = {};
      this._destinations = [];
      this._delivery = null;
      this._started = new Promise((resolve) => (this._markStarted = resolve)); // true once settings are in
      this._ready = new Promise((resolve) => (this._markReady = resolve)); // plugins loaded (or failed)
    }

    /** load(writeKey, options?): options as analytics.js takes them (integrations, cdnURL,
     * cdnSettings); integrations["Segment.io"] may set apiHost, protocol and deliveryStrategy. */
    load(writeKey, options = {}) {
      if (this._writeKey) {
        warn("analytics.load was called more than once; the first call wins");
        return this;
      }
      this._writeKey = writeKey;
      this._integrations = options.integrations || {};
      this._start(writeKey, options).catch((error) => {
        warn("could not load the settings; nothing will be sent", error);
        this._markStarted(false);
        this._markReady();
      });
      return this;
    }

    async _start(writeKey, options) {
      const settings = await loadSettings(writeKey, options);
      const segment = segmentSettings(settings, options);
      this._delivery = new Delivery({ ...segment, writeKey: segment.apiKey || writeKey },
        (reason, entries) => this.emit("error", { code: "delivery_failure", reason, messages: entries.length }));
      this._destinations.push(...await remoteDestinations(settings.remotePlugins || [], this._integrations));
      const loads = this._destinations.map((destination) => destination.load(this));
      this.initialized = true;
      this._markStarted(true);
      this.emit("initialize", settings, options);
      await Promise.all(loads);
      this._markReady();
    }

    /** Booleans of the load options' integrations, which every message carries (as analytics.js). */
    _integrationFlags() {
      return Object.fromEntries(Object.entries(this._integrations).map(([name, value]) => [name, Boolean(value)]));
    }

    async track(...args) {
      const page = popBufferedPage(args);
      const [name, properties, options, callback] = trackArguments(args);
      const event = buildEvent(this, "track", { event: name, properties }, options, page);
      return this._dispatch(event, callback, [name, event.properties, options]);
    }

    async page(...args) {
      return this._pageOrScreen("page", args);
    }

    async screen(...args) {
      return this._pageOrScreen("screen", args);
    }

    _pageOrScreen(type, args) {
      const page = popBufferedPage(args);
      const [category, name, properties, options, callback] = pageArguments(args);
      const fields = { properties: { ...properties } };
      if (category !== null) {
        fields.category = category;
        if (type === "page") fields.properties.category = category; // as analytics.js
      }
      if (name !== null) fields.name = name;
      const event = buildEvent(this, type, fields, options, page);
      return this._dispatch(event, callback, [category, name, event.properties, options]);
    }

    async identify(...args) {
      const page = popBufferedPage(args);
      const [id, traits, options, callback] = userArguments(args, this._user);
      this._user.identify(id, traits);
      const fields = { userId: this._user.id(), traits: this._user.traits() };
      const event = buildEvent(this, "identify", fields, options, page);
      return this._dispatch(event, callback, [event.userId, event.traits, options]);
    }

    /** group(groupId, traits?, options?, callback?); group() alone returns the group. */
    group(...args) {
      const page = popBufferedPage(args);
      if (args.length === 0) return this._group;
      const [id, traits, options, callback] = userArguments(args, this._group);
      this._group.identify(id, traits);
      const fields = { groupId: this._group.id(), traits: this._group.traits() };
      const event = buildEvent(this, "group", fields, options, page);
      return this._dispatch(event, callback, [event.groupId, event.traits, options]);
    }

    async alias(...args) {
      const page = popBufferedPage(args);
      const [to, from, options, callback] = aliasArguments(args);
      const fields = from === null ? { userId: to } : { userId: to, previousId: from };
      const event = buildEvent(this, "alias", fields, options, page);
      return this._dispatch(event, callback, [to, from, options]);
    }

    /** Queue the message for Segue, then hand it to each plugin the integrations option allows.
     * Resolves to the call's Context; a callback runs then, or after 300 ms at the latest. */
    _dispatch(event, callback, emitted) {
      const ctx = new Context(event);
      const delivered = this._deliver(event, emitted);
      if (callback) Promise.race([delivered, sleep(CALLBACK_TIMEOUT)]).then(() => safely(callback, ctx));
      return delivered.then(() => ctx);
    }

    async _deliver(event, emitted) {
      if (!(await this._started)) return;
      if (this._debug) console.log("[segue analytics.js]", event.type, event);
      if (event.integrations["Segment.io"] !== false) this._delivery.add(toSegueMessage(event, this._user));
      this.emit(event.type, ...emitted);
      const destinations = this._destinations.filter((destination) => destination.accepts(event.integrations));
      await Promise.all(destinations.map((destination) => destination.deliver(event)));
    }

    /** Forget the user and the group: ids, anonymous id and traits (as analytics.js). */
    reset() {
      this._user.reset();
      this._group.reset();
      this.emit("reset");
    }

    user() {
      return this._user;
    }

    setAnonymousId(id) {
      return this._user.anonymousId(id);
    }

    /** Resolves once the settings are in and every plugin loaded (or failed to). */
    async ready(callback) {
      await this._ready;
      if (isFunction(callback)) safely(callback);
      return this;
    }

    /** Add destination plugins from the page itself (analytics-next's register). */
    async register(...plugins) {
      await this._started;
      const added = plugins.filter(isPlugin).map((plugin) => new Destination(plugin.name, plugin));
      const loads = added.map((destination) => destination.load(this));
      this._destinations.push(...added);
      await Promise.all(loads);
      return this;
    }

    debug(on = true) {
      this._debug = Boolean(on);
      return this;
    }

    // Events: track, page, screen, identify, group, alias (with the call's arguments), reset,
    // initialize (settings, options), error ({code: "delivery_failure", reason, messages}).
    on(name, listener) {
      (this._listeners[name] ??= []).push(listener);
      return this;
    }

    once(name, listener) {
      const wrapper = (...args) => {
        this.off(name, wrapper);
        listener.apply(this, args);
      };
      return this.on(name, wrapper);
    }

    off(name, listener) {
      this._listeners[name] = (this._listeners[name] || []).filter((known) => known !== listener);
      return this;
    }

    emit(name, ...args) {
      for (const listener of [...(this._listeners[name] || [])]) safely(() => listener.apply(this, args));
      return this;
    }
  }

  // Classic analytics.js helpers the Segment snippet lists but Segue does not offer.
  for (const name of ["trackLink", "trackForm", "trackClick", "trackSubmit", "pageview", "deregister",
    "addSourceMiddleware", "addDestinationMiddleware", "addIntegrationMiddleware"]) {
    Analytics.prototype[name] = function () {
      warn(`analytics.${name} is not supported by Segue's library`);
      return this;
    };
  }

  // ------------------------------------------------------------------------------- start-up

  /** Queued calls replayed before the others (as analytics.js): listeners and ids come first. */
  const SETUP_METHODS = ["on", "once", "off", "setAnonymousId", "debug", "register"];

  /** Take over the Segment snippet's stub: an array of queued [method, ...args] calls, with
   * _writeKey, _loadOptions and _cdn set by its load(). Without a stub, the write key comes
   * from the bundle's URL, or the page calls analytics.load(writeKey, options) itself. */
  function install() {
    const stub = window.analytics;
    if (stub && !Array.isArray(stub)) return warn("window.analytics is taken; Segue's library stays off");
    const analytics = new Analytics();
    const queued = Array.isArray(stub) ? stub.splice(0) : [];
    analytics._cdn = stub?._cdn;
    analytics._loadOptions = stub?._loadOptions;
    window.analytics = analytics;
    const writeKey = stub?._writeKey || bundleMatch()?.[2];
    if (writeKey) analytics.load(writeKey, stub?._loadOptions || {});
    replay(analytics, queued);
  }

  function replay(analytics, queued) {
    const setup = queued.filter(([method]) => SETUP_METHODS.includes(method));
    const calls = queued.filter(([method]) => !SETUP_METHODS.includes(method));
    for (const [method, ...args] of [...setup, ...calls]) {
      if (!isFunction(analytics[method])) {
        warn(`analytics.${method} is not a method`);
        continue;
      }
      const result = safely(() => analytics[method](...args));
      if (result instanceof Promise) result.catch(warn);
    }
  }

  install();
})();

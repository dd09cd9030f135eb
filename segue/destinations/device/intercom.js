/* Intercom Messenger in device mode: the Messenger's installation snippet, then
 * Intercom('boot'), Intercom('update') and Intercom('trackEvent').
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: appId, region. */
(function () {
  "use strict";

  var API_BASES = { US: "https://api-iam.intercom.io", EU: "https://api-iam.eu.intercom.io",
    AU: "https://api-iam.au.intercom.io" };
  var RESERVED = ["email", "name", "firstName", "lastName", "first_name", "last_name", "phone", "createdAt",
    "created_at", "company", "avatar", "id"];

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function installQueue() {  // the queue Intercom's snippet defines until widget.js arrives
    if (typeof window.Intercom === "function") return;
    var intercom = window.Intercom = function () { intercom.c(arguments); };
    intercom.q = [];
    intercom.c = function (args) { intercom.q.push(args); };
  }

  function seconds(value) {
    if (typeof value === "number") return value > 1e11 ? Math.floor(value / 1000) : Math.floor(value);
    var time = typeof value === "string" ? Date.parse(value) : NaN;
    return isNaN(time) ? undefined : Math.floor(time / 1000);
  }

  function flat(source, skip) {  // Intercom attributes and metadata: flat values only
    var out = {};
    Object.keys(source || {}).forEach(function (key) {
      var value = source[key];
      if (skip.indexOf(key) >= 0 || value === null || typeof value === "object") return;
      out[key] = value;
    });
    return out;
  }

  function userAttributes(event) {
    var traits = event.traits || {};
    var attributes = flat(traits, RESERVED);
    if (event.userId) attributes.user_id = event.userId;
    if (traits.email) attributes.email = traits.email;
    var name = traits.name || [traits.firstName || traits.first_name, traits.lastName || traits.last_name]
      .filter(Boolean).join(" ");
    if (name) attributes.name = name;
    if (traits.phone) attributes.phone = traits.phone;
    var created = seconds(traits.createdAt || traits.created_at);
    if (created !== undefined) attributes.created_at = created;
    if (traits.avatar) attributes.avatar = { type: "avatar", image_url: traits.avatar };
    if (traits.company && typeof traits.company === "object" && traits.company.id) {
      attributes.company = companyOf(traits.company.id, traits.company);
    }
    return attributes;
  }

  function companyOf(id, traits) {
    var company = flat(traits, ["id", "createdAt", "created_at", "employees", "monthlySpend"]);
    company.id = id;
    var created = seconds(traits.createdAt || traits.created_at);
    if (created !== undefined) company.created_at = created;
    if (typeof traits.employees === "number") company.size = traits.employees;
    if (typeof traits.monthlySpend === "number") company.monthly_spend = traits.monthlySpend;
    return company;
  }

  window.segueDevice_intercom = function (settings) {
    var loaded = false, booted = false, analytics = null;
    var base = { app_id: settings.appId, api_base: API_BASES[settings.region] || API_BASES.US };

    function intercom() { window.Intercom.apply(window, arguments); }

    function bootOrUpdate(attributes) {
      if (booted) { intercom("update", attributes); return; }
      var boot = {};
      Object.keys(base).forEach(function (key) { boot[key] = base[key]; });
      var known = knownUser();
      Object.keys(known).forEach(function (key) { boot[key] = known[key]; });
      Object.keys(attributes).forEach(function (key) { boot[key] = attributes[key]; });
      intercom("boot", boot);
      booted = true;
    }

    function knownUser() {  // who analytics.js already knows, for a boot before any identify call
      var user = analytics && typeof analytics.user === "function" ? analytics.user() : null;
      if (!user || typeof user.id !== "function" || !user.id()) return {};
      return userAttributes({ userId: user.id(), traits: typeof user.traits === "function" ? user.traits() : {} });
    }

    return {
      name: "Intercom", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function (ctx, instance) {
        analytics = instance;
        if (!settings.appId) return Promise.reject(new Error("Intercom: set the App ID to load the Messenger"));
        window.intercomSettings = window.intercomSettings || base;
        installQueue();
        addScript("https://widget.intercom.io/widget/" + encodeURIComponent(settings.appId));
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        if (booted) intercom("update"); else bootOrUpdate({});
        return ctx;
      },
      identify: function (ctx) {
        bootOrUpdate(userAttributes(ctx.event));
        return ctx;
      },
      group: function (ctx) {
        var event = ctx.event;
        if (event.groupId) bootOrUpdate({ company: companyOf(event.groupId, event.traits || {}) });
        return ctx;
      },
      track: function (ctx) {
        var metadata = flat(ctx.event.properties, []);
        if (Object.keys(metadata).length) intercom("trackEvent", ctx.event.event, metadata);
        else intercom("trackEvent", ctx.event.event);
        return ctx;
      }
    };
  };
})();

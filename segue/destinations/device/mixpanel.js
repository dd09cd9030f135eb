/* Mixpanel in device mode: the Mixpanel JavaScript library, as Mixpanel's snippet installs it.
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: projectToken, region, consolidatePageCalls, groupKey. */
(function () {
  "use strict";

  var API_HOSTS = { US: "https://api-js.mixpanel.com", EU: "https://api-eu.mixpanel.com",
    IN: "https://api-in.mixpanel.com" };
  var QUEUED = ("disable time_event track track_pageview track_links track_forms track_with_groups add_group set_group " +
    "remove_group register register_once alias unregister identify name_tag set_config reset opt_in_tracking " +
    "opt_out_tracking has_opted_in_tracking has_opted_out_tracking clear_opt_in_out_tracking start_batch_senders " +
    "people.set people.set_once people.unset people.increment people.append people.union people.track_charge " +
    "people.clear_charges people.delete_user people.remove").split(" ");
  var RESERVED = [[["email"], "$email"], [["firstName", "first_name"], "$first_name"],
    [["lastName", "last_name"], "$last_name"], [["name"], "$name"], [["phone"], "$phone"], [["avatar"], "$avatar"],
    [["username"], "$username"], [["createdAt", "created_at", "created"], "$created"]];

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function installQueue() {  // the snippet's queue: calls wait in arrays until the library replays them
    if (window.mixpanel) return;
    var mixpanel = window.mixpanel = [];
    mixpanel._i = [];
    mixpanel.__SV = 1.2;
    mixpanel.init = function (token, config, name) {
      var target = mixpanel;
      if (name !== undefined) target = mixpanel[name] = []; else name = "mixpanel";
      target.people = target.people || [];
      QUEUED.forEach(function (method) {
        var parts = method.split("."), owner = parts.length === 2 ? target[parts[0]] : target;
        owner[parts[parts.length - 1]] = function () {
          target.push([method].concat(Array.prototype.slice.call(arguments)));
        };
      });
      mixpanel._i.push([token, config, name]);
    };
  }

  function assign(target, source) {
    Object.keys(source || {}).forEach(function (key) { target[key] = source[key]; });
    return target;
  }

  function profileProperties(traits) {  // Segment's reserved traits under Mixpanel's names
    var renamed = assign({}, traits);
    RESERVED.forEach(function (rule) {
      rule[0].forEach(function (spelling) {
        if (!(spelling in renamed)) return;
        var value = renamed[spelling];
        delete renamed[spelling];
        if (!(rule[1] in renamed)) renamed[rule[1]] = value;
      });
    });
    return renamed;
  }

  window.segueDevice_mixpanel = function (settings) {
    var loaded = false;

    function mixpanel() { return window.mixpanel; }

    return {
      name: "Mixpanel", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        installQueue();
        addScript("https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js");
        mixpanel().init(settings.projectToken, { api_host: API_HOSTS[settings.region] || API_HOSTS.US,
          track_pageview: false });
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        var event = ctx.event, properties = assign({}, event.properties);
        if (event.name) properties.name = event.name;
        if (event.category) properties.category = event.category;
        var label = [event.category, event.name].filter(Boolean).join(" ");
        var name = settings.consolidatePageCalls === false && label ? "Viewed " + label + " Page" : "Loaded a Page";
        mixpanel().track(name, properties);
        return ctx;
      },
      track: function (ctx) {
        mixpanel().track(ctx.event.event, assign({}, ctx.event.properties));
        return ctx;
      },
      identify: function (ctx) {
        var event = ctx.event, traits = profileProperties(event.traits);
        if (event.userId) mixpanel().identify(event.userId);
        if (Object.keys(traits).length) mixpanel().people.set(traits);
        return ctx;
      },
      group: function (ctx) {
        if (ctx.event.groupId) mixpanel().set_group(settings.groupKey || "$group_id", ctx.event.groupId);
        return ctx;
      },
      alias: function (ctx) {
        var event = ctx.event;
        if (event.userId && event.previousId) mixpanel().alias(event.userId, event.previousId);
        return ctx;
      }
    };
  };
})();

/* Facebook (Meta) Pixel in device mode: fbevents.js, as Meta's base code installs it.
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device). Settings:
 * pixelId, initWithExistingTraits, standardEvents, standardEventsCustomProperties,
 * whitelistPiiProperties, limitedDataUse. */
(function () {
  "use strict";

  var SPECIAL = {  // Segment e-commerce event -> how it becomes a Meta standard event
    "Product List Viewed": productListViewed, "Product Viewed": oneProduct("ViewContent"),
    "Product Added": oneProduct("AddToCart"), "Order Completed": orderCompleted,
    "Products Searched": productsSearched, "Checkout Started": checkoutStarted
  };
  var PII = ["email", "firstName", "lastName", "gender", "city", "country", "phone", "state", "zip", "birthday"];

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function num(value) {
    var parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    return typeof parsed === "number" && isFinite(parsed) ? parsed : undefined;
  }

  function money(value) { return Number(value || 0).toFixed(2); }

  function revenue(event) {
    var props = event.properties || {};
    var found = num(props.revenue);
    if (found === undefined && /^order completed$/i.test(event.event || "")) found = num(props.total);
    return found;
  }

  function currency(props) { return typeof props.currency === "string" && props.currency ? props.currency : "USD"; }

  function productId(product) {
    return product.product_id || product.productId || product.id || product.sku || "";
  }

  function quantity(product) { return num(product.quantity) || 1; }

  function merge(first, second) {
    var out = {};
    Object.keys(first).forEach(function (key) { out[key] = first[key]; });
    Object.keys(second).forEach(function (key) { if (!(key in out)) out[key] = second[key]; });
    return out;
  }

  function products(props) {
    return (Array.isArray(props.products) ? props.products : []).filter(function (p) { return p && typeof p === "object"; });
  }

  function productListViewed(event, plugin) {
    var props = event.properties || {}, ids = [], contents = [];
    products(props).forEach(function (product) {
      var id = productId(product);
      if (id) { ids.push(id); contents.push({ id: id, quantity: quantity(product) }); }
    });
    var type = ["product"];
    if (!ids.length) {
      ids.push(props.category || "");
      contents.push({ id: props.category || "", quantity: 1 });
      type = ["product_group"];
    }
    plugin.single("ViewContent", merge({ content_ids: ids, content_type: type, contents: contents },
      plugin.payload(props, true)), event);
  }

  function oneProduct(standard) {
    return function (event, plugin) {
      var props = event.properties || {}, id = productId(props), price = num(props.price);
      var value = num(props.value) !== undefined ? num(props.value) : revenue(event);
      if (plugin.settings.valueIdentifier === "price") value = price;
      var content = { id: id, quantity: quantity(props) };
      if (price !== undefined) content.item_price = price;
      plugin.single(standard, merge({
        content_ids: [id], content_type: ["product"], content_name: props.name || "",
        content_category: props.category || "", currency: currency(props), value: money(value), contents: [content]
      }, plugin.payload(props, true)), event);
    };
  }

  function contentsOf(props) {
    return products(props).map(function (product) {
      var content = { id: productId(product), quantity: quantity(product) };
      if (num(product.price)) content.item_price = num(product.price);
      return content;
    });
  }

  function orderCompleted(event, plugin) {
    var props = event.properties || {}, contents = contentsOf(props);
    plugin.single("Purchase", merge({
      content_ids: contents.map(function (c) { return c.id; }), content_type: ["product"],
      currency: currency(props), value: money(revenue(event)), contents: contents, num_items: contents.length
    }, plugin.payload(props, true)), event);
  }

  function productsSearched(event, plugin) {
    var props = event.properties || {};
    plugin.single("Search", merge({ search_string: props.query }, plugin.payload(props, true)), event);
  }

  function checkoutStarted(event, plugin) {
    var props = event.properties || {}, contents = contentsOf(props), list = products(props);
    var category = props.category || (list[0] && list[0].category);
    plugin.single("InitiateCheckout", merge({
      content_category: category, content_ids: contents.map(function (c) { return c.id; }),
      content_type: ["product"], contents: contents, currency: currency(props),
      num_items: contents.length, value: money(revenue(event))
    }, plugin.payload(props, true)), event);
  }

  function birthday(value) {
    var date = value ? new Date(value) : null;
    if (!date || isNaN(date.getTime())) return undefined;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return "" + date.getUTCFullYear() + pad(date.getUTCMonth() + 1) + pad(date.getUTCDate());
  }

  function userData(traits) {  // Meta's advanced matching keys, from Segment's reserved traits
    var first = traits.firstName || traits.first_name, last = traits.lastName || traits.last_name;
    if (!first && typeof traits.name === "string") {
      var parts = traits.name.toLowerCase().split(" ");
      first = parts.shift();
      last = parts.pop();
    }
    var address = traits.address || {};
    var data = {
      em: traits.email, fn: first, ln: last, ph: traits.phone,
      ge: typeof traits.gender === "string" ? traits.gender.slice(0, 1).toLowerCase() : undefined,
      db: birthday(traits.birthday),
      ct: typeof address.city === "string" ? address.city.split(" ").join("").toLowerCase() : undefined,
      st: typeof address.state === "string" ? address.state.toLowerCase() : undefined,
      zp: address.postalCode || address.postal_code
    };
    Object.keys(data).forEach(function (key) {
      if (data[key] === undefined || data[key] === null || data[key] === "") delete data[key];
    });
    return data;
  }

  function installQueue() {
    if (window.fbq) return;
    var fbq = window.fbq = function () {
      if (fbq.callMethod) fbq.callMethod.apply(fbq, arguments); else fbq.queue.push(arguments);
    };
    if (!window._fbq) window._fbq = fbq;
    fbq.push = fbq;
    fbq.loaded = true;
    fbq.version = "2.0";
    fbq.queue = [];
  }

  window.segueDevice_facebook_pixel = function (settings) {
    var loaded = false, pixelId = settings.pixelId;
    var plugin = {
      name: "Facebook Pixel", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function (ctx, analytics) {
        installQueue();
        window.fbq.disablePushState = true;  // the page method sends page views, not history changes
        window.fbq.allowDuplicatePageViews = true;
        addScript("https://connect.facebook.net/en_US/fbevents.js");
        if (settings.limitedDataUse !== false) window.fbq("dataProcessingOptions", ["LDU"], 0, 0);
        var user = analytics && typeof analytics.user === "function" ? analytics.user() : null;
        var traits = settings.initWithExistingTraits && user && typeof user.traits === "function" ? user.traits() : null;
        var data = traits ? userData(traits) : {};
        if (Object.keys(data).length) window.fbq("init", pixelId, data); else window.fbq("init", pixelId);
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        window.fbq("track", "PageView");
        return ctx;
      },
      track: function (ctx) {
        var event = ctx.event, name = event.event, props = event.properties || {};
        var special = SPECIAL[name], mapped = (settings.standardEvents || {})[name];
        if (special) {
          special(event, helpers);
        } else if (mapped) {
          var payload = withRevenue(helpers.payload(props, false), event);
          if (mapped === "Purchase") payload.currency = currency(props);
          helpers.single(mapped, payload, event);
        } else {
          window.fbq("trackSingleCustom", pixelId, name, withRevenue(helpers.payload(props, false), event),
            { eventID: event.messageId });
        }
        return ctx;
      },
      identify: function (ctx) {
        var data = userData(ctx.event.traits || {});
        if (settings.initWithExistingTraits && Object.keys(data).length) window.fbq("init", pixelId, data);
        return ctx;
      }
    };

    function withRevenue(payload, event) {
      if (Object.prototype.hasOwnProperty.call(event.properties || {}, "revenue")) {
        delete payload.revenue;
        payload.value = money(revenue(event));
      }
      return payload;
    }

    var helpers = {
      settings: settings,
      single: function (standard, payload, event) {
        window.fbq("trackSingle", pixelId, standard, payload, { eventID: event.messageId });
      },
      payload: function (props, standard) {  // properties Meta may see: no PII, standard events only chosen ones
        var allowed = settings.whitelistPiiProperties || [], custom = settings.standardEventsCustomProperties || [];
        var out = {};
        Object.keys(props).forEach(function (key) {
          if (standard && custom.indexOf(key) < 0) return;
          if (PII.indexOf(key) >= 0 && allowed.indexOf(key) < 0) return;
          out[key] = props[key];
        });
        return out;
      }
    };
    return plugin;
  };
})();

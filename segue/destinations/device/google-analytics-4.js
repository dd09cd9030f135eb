/* Google Analytics 4 in device mode: gtag.js, as Google's tag snippet installs it.
 * An analytics-next destination plugin; Segue's device-mode plugin contract is in
 * segue/destinations/contract.py (Device). Settings: measurementId, userPropertyTraits,
 * lowercaseEventNames. */
(function () {
  "use strict";

  var RECOMMENDED = {
    "Products Searched": "search", "Product List Viewed": "view_item_list", "Product Clicked": "select_item",
    "Product Viewed": "view_item", "Product Added": "add_to_cart", "Product Removed": "remove_from_cart",
    "Cart Viewed": "view_cart", "Checkout Started": "begin_checkout", "Payment Info Entered": "add_payment_info",
    "Order Completed": "purchase", "Order Refunded": "refund", "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion", "Product Added to Wishlist": "add_to_wishlist",
    "Product Shared": "share", "Signed Up": "sign_up", "Signed In": "login"
  };
  var SINGLE_PRODUCT = ["select_item", "view_item", "add_to_cart", "remove_from_cart", "add_to_wishlist"];
  var COMMON_PARAMS = [["transaction_id", ["order_id", "orderId"]], ["affiliation", ["affiliation"]],
    ["coupon", ["coupon"]], ["shipping", ["shipping"]], ["tax", ["tax"]]];
  var PROMOTION = [["promotion_id", ["promotion_id"]], ["promotion_name", ["name"]],
    ["creative_name", ["creative"]], ["creative_slot", ["position"]]];
  var EVENT_PARAMS = {
    search: [["search_term", ["query"]]],
    view_item_list: [["item_list_id", ["list_id"]], ["item_list_name", ["category"]]],
    select_item: [["item_list_id", ["list_id"]]],
    view_promotion: PROMOTION, select_promotion: PROMOTION,
    add_payment_info: [["payment_type", ["payment_method"]]],
    sign_up: [["method", ["method"]]], login: [["method", ["method"]]],
    share: [["method", ["share_via"]], ["item_id", ["product_id", "productId"]]]
  };
  var ITEM_FIELDS = [["item_id", ["product_id", "productId", "sku", "id"]], ["item_name", ["name"]],
    ["affiliation", ["affiliation"]], ["coupon", ["coupon"]], ["item_brand", ["brand"]],
    ["item_category", ["category"]], ["item_variant", ["variant"]], ["price", ["price"]],
    ["quantity", ["quantity"]], ["index", ["position"]]];
  var CONSUMED = ["products", "currency", "value", "revenue", "total"];
  [COMMON_PARAMS, ITEM_FIELDS].concat(Object.keys(EVENT_PARAMS).map(function (k) { return EVENT_PARAMS[k]; }))
    .forEach(function (pairs) { pairs.forEach(function (pair) { CONSUMED = CONSUMED.concat(pair[1]); }); });
  var MAX_PARAMS = 25, NAME_LENGTH = 40, VALUE_LENGTH = 100;
  var RESERVED = ("ad_activeview ad_click ad_exposure ad_impression ad_query ad_reward adunit_exposure app_background " +
    "app_clear_data app_exception app_remove app_store_refund app_store_subscription_cancel " +
    "app_store_subscription_convert app_store_subscription_renew app_update app_upgrade dynamic_link_app_open " +
    "dynamic_link_app_update dynamic_link_first_open error firebase_campaign first_open first_visit in_app_purchase " +
    "notification_dismiss notification_foreground notification_open notification_receive os_update session_start " +
    "session_start_with_rollout user_engagement").split(" ");  // GA4's reserved event names

  function sendable(name) {
    return /^[A-Za-z]/.test(name) && RESERVED.indexOf(name.toLowerCase()) < 0 && !/^(firebase_|ga_|google_)/i.test(name);
  }

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function ga4Name(name, lowercase) {
    var cleaned = String(name).trim().replace(/[^0-9A-Za-z_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, NAME_LENGTH);
    return lowercase ? cleaned.toLowerCase() : cleaned;
  }

  function scalar(value) {
    if (typeof value === "boolean") return String(value);
    if (typeof value === "number") return isFinite(value) ? value : undefined;
    return typeof value === "string" ? value.slice(0, VALUE_LENGTH) : undefined;
  }

  function firstOf(source, spellings) {
    for (var i = 0; i < spellings.length; i++) {
      var value = source[spellings[i]];
      if (value !== undefined && value !== null && value !== "") return value;
    }
    return undefined;
  }

  function pick(source, pairs) {
    var out = {};
    pairs.forEach(function (pair) {
      var value = scalar(firstOf(source, pair[1]));
      if (value !== undefined) out[pair[0]] = value;
    });
    return out;
  }

  function number(value) {
    var parsed = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    return typeof parsed === "number" && isFinite(parsed) ? parsed : undefined;
  }

  function orderValue(props) {
    var keys = ["value", "revenue", "total"];
    for (var i = 0; i < keys.length; i++) if (number(props[keys[i]]) !== undefined) return number(props[keys[i]]);
    var price = number(props.price);
    return price === undefined ? undefined : price * (number(props.quantity) || 1);
  }

  function items(props, name) {
    if (SINGLE_PRODUCT.indexOf(name) >= 0) return [pick(props, ITEM_FIELDS)];
    var products = Array.isArray(props.products) ? props.products : [];
    return products.filter(function (p) { return p && typeof p === "object"; })
      .map(function (p) { return pick(p, ITEM_FIELDS); });
  }

  function ecommerceParams(props, name) {
    var params = pick(props, COMMON_PARAMS.concat(EVENT_PARAMS[name] || []));
    var value = orderValue(props);
    if (value !== undefined) params.value = value;
    var currency = typeof props.currency === "string" ? props.currency : (value !== undefined ? "USD" : undefined);
    if (currency) params.currency = currency;
    var list = items(props, name);
    if (list.length) params.items = list;
    return params;
  }

  function customParams(props, skip, params) {
    Object.keys(props).forEach(function (key) {
      var value = scalar(props[key]);
      if (skip.indexOf(key) >= 0 || value === undefined || !/^[A-Za-z]/.test(key)) return;
      var name = ga4Name(key, true);
      if (!(name in params)) params[name] = value;
    });
    return params;
  }

  function limited(params) {
    var out = {};
    Object.keys(params).slice(0, MAX_PARAMS).forEach(function (key) { out[key] = params[key]; });
    return out;
  }

  function pageParams(event) {
    var props = event.properties || {}, page = (event.context && event.context.page) || {};
    var params = {};
    [["page_location", 1000, "url"], ["page_title", 300, "title"], ["page_referrer", 420, "referrer"]]
      .forEach(function (spec) {
        var value = props[spec[2]] || page[spec[2]];
        if (typeof value === "string" && value) params[spec[0]] = value.slice(0, spec[1]);
      });
    return params;
  }

  window.segueDevice_google_analytics_4 = function (settings) {
    var id = settings.measurementId, loaded = false;
    var userTraits = settings.userPropertyTraits || [];
    var lowercase = settings.lowercaseEventNames !== false;

    function gtag() { window.gtag.apply(window, arguments); }

    function send(name, params) {
      params.send_to = id;
      gtag("event", name, params);
    }

    return {
      name: "Google Analytics 4", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function (ctx, analytics) {
        window.dataLayer = window.dataLayer || [];
        if (typeof window.gtag !== "function") {
          window.gtag = function () { window.dataLayer.push(arguments); };
        }
        addScript("https://www.googletagmanager.com/gtag/js?id=" + encodeURIComponent(id));
        gtag("js", new Date());
        var config = { send_page_view: false };
        var user = analytics && typeof analytics.user === "function" ? analytics.user() : null;
        var userId = user && typeof user.id === "function" ? user.id() : null;
        if (userId) config.user_id = userId;
        gtag("config", id, config);
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        var event = ctx.event;
        send("page_view", limited(customParams(event.properties || {}, ["url", "title", "referrer"],
          pageParams(event))));
        return ctx;
      },
      track: function (ctx) {
        var event = ctx.event, props = event.properties || {};
        var recommended = RECOMMENDED[event.event];
        if (recommended) {
          send(recommended, limited(customParams(props, CONSUMED, ecommerceParams(props, recommended))));
        } else {
          var name = ga4Name(event.event || "", lowercase);
          if (sendable(name)) send(name, limited(customParams(props, [], {})));  // GA4 drops the others
        }
        return ctx;
      },
      identify: function (ctx) {
        var event = ctx.event, traits = event.traits || {};
        if (event.userId) gtag("set", { user_id: event.userId });
        var properties = {};
        userTraits.forEach(function (key) {
          var value = scalar(traits[key]);
          if (value !== undefined) properties[ga4Name(key, true)] = value;
        });
        if (Object.keys(properties).length) gtag("set", "user_properties", properties);
        return ctx;
      }
    };
  };
})();

"""Device-mode plugins in Chromium: each vendor's browser API receives exactly the documented calls.

A local page pre-defines the vendor's globals (`gtag`, `dataLayer`, `fbq`, `hj`, `FS`,
`Intercom`, `$crisp`, `mixpanel`, `_cio`) as recorders before a plugin file runs; the test calls
the plugin's factory with settings, awaits `load`, sends Segment events as analytics-next does
(`plugin.track(ctx)` with `ctx.event`) and compares what the recorders saw. Vendor scripts are
out of reach offline: every request off the test site is aborted, and `load` must still resolve
and inject the vendor's script tag. The last test runs the same files in Segment's own
analytics-next, as the remote plugins Segue's settings name.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

PLUGINS = Path(__file__).parents[2] / "segue" / "destinations" / "device"
SITE_HOSTS = ("localhost", "127.0.0.1")

RECORDERS = """<!doctype html><meta charset="utf-8"><title>plugin test</title><script>
window.recorded = [];
function recorder(name) {
  var record = function () { window.recorded.push([name].concat(JSON.parse(JSON.stringify(Array.from(arguments))))); };
  record.isRecorder = true;
  return record;
}
window.gtag = recorder("gtag");
window.dataLayer = []; window.dataLayer.push = recorder("dataLayer");
window.fbq = recorder("fbq");
window.hj = recorder("hj");
window.FS = recorder("FS");
window.Intercom = recorder("Intercom");
window.$crisp = []; window.$crisp.push = recorder("$crisp");
window.mixpanel = {people: {set: recorder("mixpanel.people.set")}};
["init", "track", "identify", "set_group", "alias"].forEach((m) => { window.mixpanel[m] = recorder("mixpanel." + m); });
window._cio = [];
["identify", "track", "page"].forEach((m) => { window._cio[m] = recorder("_cio." + m); });
</script>"""

# Runs in the page: the factory, load (with a stand-in for analytics.js's `analytics`), then each
# call; returns what the recorders saw during load and during each call, and the vendor scripts.
RUN = """async ([library, settings, events]) => {
  const take = () => (window.recorded || []).splice(0);
  const analytics = {user: () => ({id: () => null, anonymousId: () => "anon-1", traits: () => ({})})};
  const plugin = window[library](settings);
  const before = plugin.isLoaded();
  await plugin.load({event: {type: "page"}}, analytics);
  const result = {before, after: plugin.isLoaded(), name: plugin.name, type: plugin.type, load: take(),
                  calls: [], scripts: Array.from(document.scripts).map((s) => s.src)
                                         .filter((s) => s && !s.includes("localhost"))};
  for (const event of events) {
    const ctx = {event};
    const returned = await plugin[event.type](ctx);
    result.calls.push({same: returned === ctx, recorded: take()});
  }
  return result;
}"""


def stay_offline(tab) -> None:
    """Abort every request that leaves the local test site (vendor scripts, vendor APIs)."""
    def route(route, request):
        return route.continue_() if urlsplit(request.url).hostname in SITE_HOSTS else route.abort()

    tab.route("**/*", route)


@pytest.fixture
def run(tab, site):
    """run(slug, settings, *events, recorders=True): what the plugin did, recorded in Chromium."""
    stay_offline(tab)

    def runner(slug: str, settings: dict, *events: dict, recorders: bool = True) -> dict:
        site.write(f"{slug}.js", (PLUGINS / f"{slug}.js").read_text())
        head = RECORDERS if recorders else '<!doctype html><meta charset="utf-8"><title>plugin test</title>'
        tab.goto(site.write(f"{slug}.html", f'{head}<script src="{slug}.js"></script>'))
        library = "segueDevice_" + slug.replace("-", "_")
        return tab.evaluate(RUN, [library, settings, list(events)])

    return runner


def ctx_event(kind: str, **fields) -> dict:
    return {"type": kind, "messageId": f"m-{kind}", "anonymousId": "anon-1", **fields}


def calls(result: dict) -> list[list]:
    """The recorded calls of each event, after checking that every method returned its ctx."""
    assert all(call["same"] for call in result["calls"])
    return [call["recorded"] for call in result["calls"]]


PAGE = ctx_event("page", name="Pricing", category="Docs", userId="u-1", properties={
    "url": "https://shop.example/pricing", "title": "Pricing | Shop", "referrer": "https://www.google.com/",
    "path": "/pricing"})
ORDER = ctx_event("track", event="Order Completed", userId="u-1", properties={
    "order_id": "50314b8e", "total": 27.5, "revenue": 25, "shipping": 3, "tax": 2, "coupon": "hasbros",
    "currency": "EUR", "email": "jane@example.com",
    "products": [{"product_id": "507f1f77", "sku": "45790-32", "name": "Monopoly", "price": 10, "quantity": 2,
                  "category": "Games"},
                 {"sku": "46493-32", "name": "Uno", "price": 5}]})
CUSTOM = ctx_event("track", event="Video Played", userId="u-1", properties={
    "title": "Intro", "seconds": 30, "email": "jane@example.com", "chapters": {"first": 1}})
IDENTIFY = ctx_event("identify", userId="u-1", traits={
    "email": "Jane@Example.com", "name": "Jane Doe", "plan": "pro", "logins": 3, "createdAt": "2024-01-02T03:04:05Z",
    "phone": "+1 555 0100", "gender": "Female", "birthday": "1990-05-17", "segments": ["vip"],
    "address": {"city": "San Francisco", "state": "CA", "postalCode": "94103"}, "company": {"id": "c1", "name": "Acme"}})


def test_google_analytics_4(run):
    settings = {"measurementId": "G-TEST123", "userPropertyTraits": ["plan", "email_verified"],
                "lowercaseEventNames": True}
    result = run("google-analytics-4", settings, PAGE, ORDER, CUSTOM, IDENTIFY)
    assert (result["before"], result["after"], result["name"], result["type"]) == (
        False, True, "Google Analytics 4", "destination")
    assert result["scripts"] == ["https://www.googletagmanager.com/gtag/js?id=G-TEST123"]
    (js, config) = result["load"]
    assert js[:2] == ["gtag", "js"] and isinstance(js[2], str)
    assert config == ["gtag", "config", "G-TEST123", {"send_page_view": False}]
    page, order, custom, identify = calls(result)
    assert page == [["gtag", "event", "page_view", {
        "page_location": "https://shop.example/pricing", "page_title": "Pricing | Shop",
        "page_referrer": "https://www.google.com/", "path": "/pricing", "send_to": "G-TEST123"}]]
    assert order == [["gtag", "event", "purchase", {
        "transaction_id": "50314b8e", "coupon": "hasbros", "shipping": 3, "tax": 2, "value": 25, "currency": "EUR",
        "items": [{"item_id": "507f1f77", "item_name": "Monopoly", "item_category": "Games", "price": 10, "quantity": 2},
                  {"item_id": "46493-32", "item_name": "Uno", "price": 5}],
        "email": "jane@example.com", "send_to": "G-TEST123"}]]
    assert custom == [["gtag", "event", "video_played", {
        "title": "Intro", "seconds": 30, "email": "jane@example.com", "send_to": "G-TEST123"}]]
    assert identify == [["gtag", "set", {"user_id": "u-1"}], ["gtag", "set", "user_properties", {"plan": "pro"}]]


def test_google_analytics_4_event_names(run):
    result = run("google-analytics-4", {"measurementId": "G-TEST123", "lowercaseEventNames": False},
                 ctx_event("track", event="Video Played", properties={}),
                 ctx_event("track", event="Product Added", properties={"product_id": "p1", "price": 4, "quantity": 3}),
                 ctx_event("track", event="Session Start", properties={}),
                 ctx_event("track", event="google_thing", properties={}), ctx_event("track", event="2 Go", properties={}))
    assert calls(result) == [
        [["gtag", "event", "Video_Played", {"send_to": "G-TEST123"}]],
        [["gtag", "event", "add_to_cart", {"value": 12, "currency": "USD", "items": [
            {"item_id": "p1", "price": 4, "quantity": 3}], "send_to": "G-TEST123"}]],
        [], [], [],  # reserved names and names GA4 cannot take are not sent
    ]


def test_google_tag_manager(run):
    result = run("google-tag-manager", {"containerId": "GTM-M8M29T"}, PAGE, ctx_event("page", properties={}),
                 ctx_event("track", event="Signed Up", userId="u-1", properties={"plan": "pro"}), IDENTIFY)
    assert result["scripts"] == ["https://www.googletagmanager.com/gtm.js?id=GTM-M8M29T&l=dataLayer"]
    ((name, start),) = result["load"]
    assert name == "dataLayer" and start["event"] == "gtm.js" and start["gtm.start"] > 0
    named, unnamed, track, identify = calls(result)
    page_fields = {**PAGE["properties"], "category": "Docs", "name": "Pricing", "userId": "u-1",
                   "segmentAnonymousId": "anon-1"}
    assert named == [["dataLayer", {**page_fields, "event": "Viewed Docs Page"}],
                     ["dataLayer", {**page_fields, "event": "Viewed Docs Pricing Page"}]]
    assert unnamed == []  # as in Segment: only with Track All Pages
    assert track == [["dataLayer", {"plan": "pro", "userId": "u-1", "segmentAnonymousId": "anon-1",
                                    "event": "Signed Up"}]]
    assert identify == [["dataLayer", {"userId": "u-1", "segmentAnonymousId": "anon-1", "traits": IDENTIFY["traits"]}]]


def test_google_tag_manager_environment_and_all_pages(run):
    settings = {"containerId": "GTM-M8M29T", "environment": "env-5", "trackAllPages": True,
                "trackNamedPages": False, "trackCategorizedPages": False}
    result = run("google-tag-manager", settings, PAGE)
    assert result["scripts"] == ["https://www.googletagmanager.com/gtm.js?id=GTM-M8M29T&l=dataLayer&gtm_preview=env-5"]
    assert [entry["event"] for _, entry in calls(result)[0]] == ["Loaded a Page"]


def test_facebook_pixel(run):
    settings = {"pixelId": "1234567890", "initWithExistingTraits": True,
                "standardEvents": {"Signed Up": "CompleteRegistration"}}
    viewed = ctx_event("track", event="Product Viewed", properties={
        "product_id": "p1", "name": "Shoe", "category": "Shoes", "price": 49.5, "value": 49.5, "currency": "USD"})
    searched = ctx_event("track", event="Products Searched", properties={"query": "blue shoes"})
    signed_up = ctx_event("track", event="Signed Up", properties={"plan": "pro", "revenue": 9})
    result = run("facebook-pixel", settings, ctx_event("page", properties={}), ORDER, viewed, searched, signed_up,
                 CUSTOM, IDENTIFY)
    assert result["scripts"] == ["https://connect.facebook.net/en_US/fbevents.js"]
    assert result["load"] == [["fbq", "dataProcessingOptions", ["LDU"], 0, 0], ["fbq", "init", "1234567890"]]
    page, order, product, search, mapped, custom, identify = calls(result)
    assert page == [["fbq", "track", "PageView"]]
    assert order == [["fbq", "trackSingle", "1234567890", "Purchase", {
        "content_ids": ["507f1f77", "46493-32"], "content_type": ["product"], "currency": "EUR", "value": "25.00",
        "contents": [{"id": "507f1f77", "quantity": 2, "item_price": 10},
                     {"id": "46493-32", "quantity": 1, "item_price": 5}],
        "num_items": 2}, {"eventID": "m-track"}]]
    assert product == [["fbq", "trackSingle", "1234567890", "ViewContent", {
        "content_ids": ["p1"], "content_type": ["product"], "content_name": "Shoe", "content_category": "Shoes",
        "currency": "USD", "value": "49.50", "contents": [{"id": "p1", "quantity": 1, "item_price": 49.5}]},
        {"eventID": "m-track"}]]
    assert search == [["fbq", "trackSingle", "1234567890", "Search", {"search_string": "blue shoes"},
                       {"eventID": "m-track"}]]
    assert mapped == [["fbq", "trackSingle", "1234567890", "CompleteRegistration", {"plan": "pro", "value": "9.00"},
                       {"eventID": "m-track"}]]
    assert custom == [["fbq", "trackSingleCustom", "1234567890", "Video Played",
                       {"title": "Intro", "seconds": 30, "chapters": {"first": 1}}, {"eventID": "m-track"}]]
    assert identify == [["fbq", "init", "1234567890", {
        "em": "Jane@Example.com", "fn": "jane", "ln": "doe", "ph": "+1 555 0100", "ge": "f", "db": "19900517",
        "ct": "sanfrancisco", "st": "ca", "zp": "94103"}]]


def test_facebook_pixel_without_advanced_matching_or_limited_data_use(run):
    settings = {"pixelId": "1234567890", "limitedDataUse": False, "whitelistPiiProperties": ["email"]}
    result = run("facebook-pixel", settings, IDENTIFY, CUSTOM)
    assert result["load"] == [["fbq", "init", "1234567890"]]
    identify, custom = calls(result)
    assert identify == []
    assert custom[0][4] == {"title": "Intro", "seconds": 30, "email": "jane@example.com", "chapters": {"first": 1}}


def test_hotjar(run, tab):
    result = run("hotjar", {"siteId": "1234567"}, IDENTIFY, ctx_event("identify", traits={"plan": "pro"}),
                 ctx_event("track", event="Signed Up", properties={"plan": "pro"}))
    assert result["scripts"] == ["https://static.hotjar.com/c/hotjar-1234567.js?sv=6"]
    assert result["load"] == [] and tab.evaluate("window._hjSettings") == {"hjid": 1234567, "hjsv": 6}
    known, anonymous, track = calls(result)
    assert known == [["hj", "identify", "u-1", {
        "email": "Jane@Example.com", "name": "Jane Doe", "plan": "pro", "logins": 3, "createdAt": "2024-01-02T03:04:05Z",
        "phone": "+1 555 0100", "gender": "Female", "birthday": "1990-05-17"}]]
    assert anonymous == [["hj", "identify", None, {"plan": "pro"}]]
    assert track == [["hj", "event", "Signed Up"]]


def test_fullstory(run, tab):
    anonymous = ctx_event("identify", traits={"plan": "pro"})
    track = ctx_event("track", event="Signed Up", properties={"plan": "pro"})
    result = run("fullstory", {"orgId": "o-1A2B3C-na1"}, IDENTIFY, anonymous, track, PAGE)
    assert result["scripts"] == ["https://edge.fullstory.com/s/fs.js"] and result["load"] == []
    assert tab.evaluate("[window._fs_org, window._fs_namespace, window._fs_host]") == [
        "o-1A2B3C-na1", "FS", "fullstory.com"]
    identify, anonymous_identify, event, page = calls(result)
    user = {key: value for key, value in IDENTIFY["traits"].items() if key != "name"}
    assert identify == [["FS", "setIdentity", {"uid": "u-1", "properties": {**user, "displayName": "Jane Doe"}}]]
    assert anonymous_identify == [["FS", "setProperties", {"type": "user", "properties": {"plan": "pro"}}]]
    assert event == [["FS", "trackEvent", {"name": "Signed Up", "properties": {"plan": "pro"}}]]
    assert page == [["FS", "setProperties", {"type": "page", "properties": {**PAGE["properties"], "pageName": "Pricing"}}]]


def test_intercom(run, tab):
    group = ctx_event("group", groupId="c2", traits={"name": "Globex", "employees": 50, "plan": "enterprise"})
    track = ctx_event("track", event="Signed Up", properties={"plan": "pro", "nested": {"a": 1}})
    result = run("intercom", {"appId": "abc12345", "region": "EU"}, PAGE, PAGE, IDENTIFY, track, group)
    assert result["scripts"] == ["https://widget.intercom.io/widget/abc12345"] and result["load"] == []
    base = {"app_id": "abc12345", "api_base": "https://api-iam.eu.intercom.io"}
    assert tab.evaluate("window.intercomSettings") == base
    boot, update, identify, event, company = calls(result)
    assert boot == [["Intercom", "boot", base]]
    assert update == [["Intercom", "update"]]
    assert identify == [["Intercom", "update", {
        "plan": "pro", "logins": 3, "gender": "Female", "birthday": "1990-05-17", "user_id": "u-1",
        "email": "Jane@Example.com", "name": "Jane Doe", "phone": "+1 555 0100", "created_at": 1704164645,
        "company": {"name": "Acme", "id": "c1"}}]]
    assert event == [["Intercom", "trackEvent", "Signed Up", {"plan": "pro"}]]
    assert company == [["Intercom", "update", {"company": {"name": "Globex", "plan": "enterprise", "id": "c2", "size": 50}}]]


def test_intercom_boots_with_the_user_on_identify_first(run):
    result = run("intercom", {"appId": "abc12345"}, ctx_event("identify", userId="u-9", traits={"email": "a@b.co"}))
    assert calls(result) == [[["Intercom", "boot", {
        "app_id": "abc12345", "api_base": "https://api-iam.intercom.io", "user_id": "u-9", "email": "a@b.co"}]]]


def test_intercom_without_an_app_id_refuses_to_load(tab, site, run):
    run("intercom", {"appId": "abc12345"})  # the page and plugin file are in place
    message = tab.evaluate("""() => window.segueDevice_intercom({region: "US"}).load({}, null)
                                .then(() => "loaded", (error) => error.message)""")
    assert message == "Intercom: set the App ID to load the Messenger"


def test_crisp(run, tab):
    track = ctx_event("track", event="Signed Up", properties={"plan": "pro", "seats": 3, "nested": {"a": 1}})
    result = run("crisp", {"websiteId": "7598bf86-9ebb-46bc-8d61-be8929bbf93d", "eventColor": "purple"}, IDENTIFY, track)
    assert result["scripts"] == ["https://client.crisp.chat/l.js"] and result["load"] == []
    assert tab.evaluate("window.CRISP_WEBSITE_ID") == "7598bf86-9ebb-46bc-8d61-be8929bbf93d"
    identify, event = calls(result)
    assert identify == [
        ["$crisp", ["set", "user:email", ["Jane@Example.com"]]],
        ["$crisp", ["set", "user:nickname", ["Jane Doe"]]],
        ["$crisp", ["set", "user:phone", ["+1 555 0100"]]],
        ["$crisp", ["set", "user:company", ["Acme"]]],
        ["$crisp", ["set", "session:segments", [["vip"]]]],
        ["$crisp", ["set", "session:data", [[["user_id", "u-1"], ["plan", "pro"], ["logins", 3],
                                              ["createdAt", "2024-01-02T03:04:05Z"], ["gender", "Female"],
                                              ["birthday", "1990-05-17"]]]]],
    ]
    assert event == [["$crisp", ["set", "session:event", [[["Signed Up", {"plan": "pro", "seats": 3}, "purple"]]]]]]


def test_mixpanel(run):
    settings = {"projectToken": "tok-123", "region": "EU", "consolidatePageCalls": False, "groupKey": "company_id"}
    group = ctx_event("group", userId="u-1", groupId="c2", traits={"name": "Globex"})
    alias = ctx_event("alias", userId="u-1", previousId="anon-1")
    result = run("mixpanel", settings, PAGE, ctx_event("page", properties={"path": "/"}), CUSTOM, IDENTIFY, group, alias)
    assert result["scripts"] == ["https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js"]
    assert result["load"] == [["mixpanel.init", "tok-123", {"api_host": "https://api-eu.mixpanel.com",
                                                            "track_pageview": False}]]
    named, unnamed, track, identify, group_call, alias_call = calls(result)
    assert named == [["mixpanel.track", "Viewed Docs Pricing Page", {**PAGE["properties"], "name": "Pricing",
                                                                     "category": "Docs"}]]
    assert unnamed == [["mixpanel.track", "Loaded a Page", {"path": "/"}]]
    assert track == [["mixpanel.track", "Video Played", CUSTOM["properties"]]]
    traits = {key: value for key, value in IDENTIFY["traits"].items() if key not in ("email", "name", "phone", "createdAt")}
    assert identify == [["mixpanel.identify", "u-1"], ["mixpanel.people.set", {
        **traits, "$email": "Jane@Example.com", "$name": "Jane Doe", "$phone": "+1 555 0100",
        "$created": "2024-01-02T03:04:05Z"}]]
    assert group_call == [["mixpanel.set_group", "company_id", "c2"]]
    assert alias_call == [["mixpanel.alias", "u-1", "anon-1"]]


def test_customerio(run, tab):
    anonymous = ctx_event("identify", traits={"plan": "pro"})
    result = run("customerio", {"siteId": "site-42", "region": "EU"}, IDENTIFY, anonymous, CUSTOM, PAGE)
    assert result["scripts"] == ["https://assets.customer.io/assets/track-eu.js"] and result["load"] == []
    tracker = ("[...document.scripts].filter((s) => s.id === 'cio-tracker')"
               ".map((s) => [s.dataset.siteId, s.dataset.autoTrackPage])")
    assert tab.evaluate(tracker) == [["site-42", "false"]]
    identify, anonymous_identify, track, page = calls(result)
    traits = {key: value for key, value in IDENTIFY["traits"].items() if key != "createdAt"}
    assert identify == [["_cio.identify", {"id": "u-1", **traits, "created_at": 1704164645}]]
    assert anonymous_identify == []
    assert track == [["_cio.track", "Video Played", CUSTOM["properties"]]]
    assert page == [["_cio.page", "https://shop.example/pricing", PAGE["properties"]]]


GLOBALS = {  # slug, settings, the vendor global load sets up when the page has none, where the calls wait
    "google-analytics-4": ({"measurementId": "G-TEST123"}, "gtag", "window.dataLayer.length"),
    "google-tag-manager": ({"containerId": "GTM-M8M29T"}, "dataLayer", "window.dataLayer.length"),
    "facebook-pixel": ({"pixelId": "1234567890"}, "fbq", "window.fbq.queue.length"),
    "hotjar": ({"siteId": "1234567"}, "hj", "window.hj.q.length"),
    "fullstory": ({"orgId": "o-1A2B3C-na1"}, "FS", "window.FS.q.length"),
    "intercom": ({"appId": "abc12345"}, "Intercom", "window.Intercom.q.length"),
    "crisp": ({"websiteId": "site-1"}, "$crisp", "window.$crisp.length"),
    "customerio": ({"siteId": "site-42"}, "_cio", "window._cio.length"),
    "mixpanel": ({"projectToken": "tok-123"}, "mixpanel", "window.mixpanel.length + window.mixpanel._i.length"),
}


KEPT = {  # slug: an expression true while the page's own recorder is still the vendor global
    "google-analytics-4": "window.gtag.isRecorder", "google-tag-manager": "window.dataLayer.push.isRecorder",
    "facebook-pixel": "window.fbq.isRecorder", "hotjar": "window.hj.isRecorder", "fullstory": "window.FS.isRecorder",
    "intercom": "window.Intercom.isRecorder", "crisp": "window.$crisp.push.isRecorder",
    "customerio": "window._cio.track.isRecorder", "mixpanel": "window.mixpanel.track.isRecorder",
}


@pytest.mark.parametrize("slug", GLOBALS)
def test_an_existing_vendor_global_is_kept(run, tab, slug):
    run(slug, GLOBALS[slug][0], ctx_event("track", event="Signed Up", properties={}))
    assert tab.evaluate(KEPT[slug]) is True


@pytest.mark.parametrize("slug", GLOBALS)
def test_without_the_vendor_global_load_installs_its_queue(run, tab, slug):
    """As the vendor's snippet does: calls made before the vendor script arrives wait in a queue."""
    settings, name, queued = GLOBALS[slug]
    track = ctx_event("track", event="Signed Up", properties={})
    identify = ctx_event("identify", userId="u-1", traits={"email": "a@b.co"})
    result = run(slug, settings, track, identify, recorders=False)
    assert result["after"] is True and len(result["scripts"]) == 1
    assert tab.evaluate(f"typeof window[{name!r}]") in ("function", "object")
    assert tab.evaluate(queued) >= 1


ANALYTICS_NEXT = Path(__file__).parent / "node" / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
NEXT_CALLS = """async ({writeKey, cdnURL}) => {
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey, cdnURL});
  await analytics.page("Docs", "Install", {plan: "pro"});
  await analytics.track("Order Completed", {order_id: "o-17", revenue: 42.5, products: [{sku: "s-1", quantity: 2}]});
  await analytics.identify("user-42", {email: "ada@example.com", plan: "pro"});
  return {anonymousId: analytics.user().anonymousId(), recorded: window.recorded};
}"""


@pytest.mark.skipif(not (ANALYTICS_NEXT / "index.js").exists(), reason="@segment/analytics-next is not installed")
def test_segments_analytics_next_runs_the_plugins_as_remote_plugins(device_server, tab, site):
    """The same files, served by Segue as `remotePlugins`, work in Segment's own library."""
    from tests.device.conftest import add_device_destination, js_source

    source = js_source(device_server, "Next Plugins Shop")
    for slug, settings in (("google-tag-manager", {"containerId": "GTM-M8M29T"}), ("hotjar", {"siteId": "1234567"}),
                           ("facebook-pixel", {"pixelId": "1234567890", "limitedDataUse": False})):
        add_device_destination(device_server, source["id"], slug, settings)
    for built in ANALYTICS_NEXT.iterdir():
        (site.root / built.name).symlink_to(built)
    stay_offline(tab)
    tab.goto(site.write("next.html", RECORDERS + '<script src="index.js"></script>'))
    seen = tab.evaluate(NEXT_CALLS, {"writeKey": source["write_key"], "cdnURL": device_server.url})
    recorded = [call for call in seen["recorded"] if call[0] != "dataLayer" or call[1].get("event") != "gtm.js"]
    by_vendor = {vendor: [call[1:] for call in recorded if call[0] == vendor] for vendor in ("dataLayer", "fbq", "hj")}
    pushed = [entry for (entry,) in by_vendor["dataLayer"]]
    assert [entry.get("event") for entry in pushed] == [
        "Viewed Docs Page", "Viewed Docs Install Page", "Order Completed", None]
    assert pushed[3] == {"userId": "user-42", "segmentAnonymousId": seen["anonymousId"],
                         "traits": {"email": "ada@example.com", "plan": "pro"}}
    assert by_vendor["fbq"][0] == ["init", "1234567890"] and by_vendor["fbq"][1] == ["track", "PageView"]
    assert by_vendor["fbq"][2][:3] == ["trackSingle", "1234567890", "Purchase"]
    assert by_vendor["fbq"][2][3]["value"] == "42.50" and by_vendor["fbq"][2][3]["content_ids"] == ["s-1"]
    assert by_vendor["hj"] == [["event", "Order Completed"],
                               ["identify", "user-42", {"email": "ada@example.com", "plan": "pro"}]]

// Device-mode plugins for the library's tests, in analytics-next's destination plugin shape.
// Each records what it is given in window.pluginCalls as [plugin, method, what].
(function () {
  window.pluginCalls = [];

  function record(name, method, what) {
    window.pluginCalls.push([name, method, JSON.parse(JSON.stringify(what))]);
  }

  function recorder(name, settings) {
    var plugin = {
      name: name, type: "destination", version: "1.0.0",
      isLoaded: function () { return true; },
      load: function (ctx, analytics) {
        record(name, "load", {settings: settings, hasTrack: typeof analytics.track === "function"});
        return Promise.resolve();
      },
    };
    ["page", "track", "identify", "group", "alias"].forEach(function (method) {
      plugin[method] = function (ctx) {
        record(name, method, ctx.event);
        return ctx;
      };
    });
    return plugin;
  }

  window.segueTestRecorder = function (settings) { return recorder("Recorder", settings); };
  window.segueTestRecorder.recorder = recorder;

  // Throws everywhere it can: the library and the other plugins must not notice.
  window.segueTestThrower = function () {
    var fail = function () { throw new Error("the thrower plugin fails on purpose"); };
    return {name: "Thrower", type: "destination", version: "1.0.0", isLoaded: function () { return true; },
            load: function () { return Promise.resolve(); },
            page: fail, track: fail, identify: fail, group: fail, alias: fail};
  };
})();

/* The test recorders' device-mode plugin: every call goes to window.deviceRecorderCalls. */
(function () {
  "use strict";
  function recorder(name) {
    return function (settings) {
      var calls = (window.deviceRecorderCalls = window.deviceRecorderCalls || []);
      function record(ctx) {
        var event = ctx.event;
        calls.push({plugin: name, type: event.type, event: event.event, name: event.name, userId: event.userId,
                    properties: event.properties, traits: event.traits, siteId: settings.siteId});
        return ctx;
      }
      return {
        name: name, type: "destination", version: "1.0.0",
        isLoaded: function () { return true; },
        load: function () { (window.deviceRecorderLoaded = window.deviceRecorderLoaded || []).push(name); return Promise.resolve(); },
        page: record, track: record, identify: record
      };
    };
  }
  window.segueDevice_device_recorder = recorder("Device Recorder");
  window.segueDevice_hybrid_recorder = recorder("Hybrid Recorder");
})();

// A plugin the page does not include: the library loads this file from the remotePlugins url.
window.segueTestRemote = function (settings) {
  return window.segueTestRecorder.recorder("Remote", settings);
};

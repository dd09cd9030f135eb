/* Segue app: copy buttons, confirmations and the source debugger. Event payloads are only
   ever put into the page as text (textContent), never as HTML. */
"use strict";

const MAX_EVENTS = 200;

function setUpCopyButtons() {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.querySelector(button.dataset.copy);
      field.select();
      try { await navigator.clipboard.writeText(field.value); } catch (error) { document.execCommand("copy"); }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  });
}

function setUpConfirmations() {
  document.addEventListener("submit", (event) => {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });
}

function describe(message) {
  const what = message.event || message.name || message.groupId || message.previousId || "";
  const who = message.userId || message.anonymousId || "";
  return [message.type, what, who && `· ${who}`].filter(Boolean).join(" ");
}

function eventItem(data) {
  const message = data.message || {};
  const item = document.createElement("li");
  item.className = "event";
  item.dataset.type = message.type || "";
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  const time = document.createElement("time");
  time.textContent = new Date(data.receivedAtMs).toLocaleTimeString();
  const title = document.createElement("span");
  title.className = "event-title";
  title.textContent = describe(message);
  summary.append(time, " ", title);
  const pre = document.createElement("pre");
  pre.className = "code";
  pre.textContent = JSON.stringify(message, null, 2);
  details.append(summary, pre);
  item.append(details);
  return item;
}

function setUpDebugger() {
  const panel = document.querySelector(".debugger[data-stream]");
  if (!panel) return;
  const list = panel.querySelector("#debug-events");
  const status = panel.querySelector("#debug-status");
  const empty = panel.querySelector("#debug-empty");
  const filter = panel.querySelector("#debug-filter");
  const pause = panel.querySelector("#debug-pause");
  let paused = false;
  const held = [];

  const applyFilter = (item) => { item.hidden = Boolean(filter.value) && item.dataset.type !== filter.value; };
  const show = (data) => {
    const item = eventItem(data);
    applyFilter(item);
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    empty.hidden = true;
  };
  filter.addEventListener("change", () => list.querySelectorAll("li").forEach(applyFilter));
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    status.textContent = paused ? "Paused: new events are held until you resume." : "Live";
    if (!paused) held.splice(0).forEach(show);
  });

  const source = new EventSource(panel.dataset.stream);
  source.addEventListener("open", () => { if (!paused) status.textContent = "Live"; });
  source.addEventListener("error", () => { status.textContent = "Reconnecting…"; });
  source.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (paused) held.push(data); else show(data);
  });
  window.addEventListener("pagehide", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCopyButtons();
  setUpConfirmations();
  setUpDebugger();
});

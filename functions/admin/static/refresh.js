// Pages that keep themselves current. No inline script, no eval: the page's CSP (script-src 'self';
// connect-src 'self') allows exactly this.
// - A page shown while the order's last event is still being applied (its buttons held back) reloads
//   itself until the lifecycle has applied it.
// - The store's queue: every 20 s its part is fetched and swapped in.
// - An order page: every 15 s it asks for the order's version; once the order has changed (a partner, the
//   lifecycle, another operator), its actions are disabled and a notice offers the reload.
"use strict";
(function () {
  if (document.querySelector("[data-applying]")) {
    setTimeout(function () { window.location.reload(); }, 1000);
    return;
  }
  async function fetched(source, kind) {
    try {
      const answer = await fetch(source, { credentials: "same-origin", headers: { Accept: kind } });
      return answer.ok ? await answer.text() : null;
    } catch (e) {
      return null; // offline for a moment: the next tick tries again
    }
  }
  const queue = document.getElementById("queue");
  if (queue) {
    setInterval(async function () {
      const html = await fetched(queue.getAttribute("data-src"), "text/html");
      if (html !== null) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        queue.replaceChildren(...fresh.body.childNodes);
        queue.setAttribute("data-refreshed", new Date().toISOString());
      }
    }, 20000);
  }
  const watched = document.querySelector("[data-version-src]");
  if (watched) {
    const timer = setInterval(async function () {
      const version = await fetched(watched.getAttribute("data-version-src"), "text/plain");
      if (version === null || version.trim() === watched.getAttribute("data-version")) return;
      clearInterval(timer);
      watched.querySelectorAll("form button, form input, form select, form textarea")
        .forEach(function (field) { field.disabled = true; });
      const notice = document.getElementById("changed");
      notice.hidden = false;
      notice.querySelector("a").focus();
    }, 15000);
  }
})();

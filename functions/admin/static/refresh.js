// Pages that keep themselves current. No inline script, no eval: the page's CSP (script-src 'self';
// connect-src 'self') allows exactly this.
// - A page shown while the order's last event is still being applied (its buttons held back) reloads
//   itself each second until the lifecycle has applied it, for a minute at most (a lifecycle that is
//   stuck leaves the order for attention: the page then says so instead of reloading for good).
// - The store's queue: every 20 s its part is fetched and swapped in.
// - An order page: every 15 s it asks for the order's version; once the order has changed (a partner, the
//   lifecycle, another operator), its actions are disabled and a notice offers the reload.
"use strict";
(function () {
  const applying = document.querySelector("[data-applying]");
  const reloads = "oms-hub.reloads:" + window.location.pathname;
  if (applying) {
    const done = Number(window.sessionStorage.getItem(reloads) || 0);
    if (done < 60) {
      window.sessionStorage.setItem(reloads, String(done + 1));
      setTimeout(function () { window.location.reload(); }, 1000);
    } else {
      window.sessionStorage.removeItem(reloads);
      applying.textContent = applying.getAttribute("data-still");
    }
    return;
  }
  window.sessionStorage.removeItem(reloads);
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

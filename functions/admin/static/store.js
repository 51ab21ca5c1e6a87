// The store's queue refreshes itself: every 20 s the queue part is fetched and swapped in. No inline
// script, no eval: the page's CSP (script-src 'self'; connect-src 'self') allows exactly this.
"use strict";
(function () {
  // A picking list shown while the order's last event is still being applied (its buttons held back)
  // reloads itself until the lifecycle has applied it.
  if (document.querySelector("[data-applying]")) {
    setTimeout(function () { window.location.reload(); }, 1000);
    return;
  }
  const queue = document.getElementById("queue");
  if (!queue) return;
  const source = queue.getAttribute("data-src");
  async function refresh() {
    try {
      const answer = await fetch(source, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.ok) {
        const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
        queue.replaceChildren(...fresh.body.childNodes);
        queue.setAttribute("data-refreshed", new Date().toISOString());
      }
    } catch (e) {
      // offline for a moment: the next tick tries again
    }
  }
  setInterval(refresh, 20000);
})();

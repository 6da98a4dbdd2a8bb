// deputy console: the only script. Pages work without it; it adds copy
// buttons, and a clock and the broker's retries while a verifying form
// waits for its answer.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons name the element whose text they copy.
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch (e) {
        // Without clipboard access (plain http to another host), select
        // the text so the keyboard's copy works.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }

  // Forms that make the broker verify a role (Verify, attach, change
  // access) wait while IAM propagation is retried: show how long so far.
  for (const form of document.querySelectorAll("form[data-progress]")) {
    form.addEventListener("submit", () => {
      const panel = document.getElementById(form.dataset.progress);
      for (const b of form.querySelectorAll("button")) b.disabled = true;
      if (!panel) return;
      panel.hidden = false;
      const clock = panel.querySelector(".clock");
      const lines = panel.querySelector(".lines");
      const started = Date.now();
      setInterval(() => {
        clock.textContent = Math.floor((Date.now() - started) / 1000) + " s";
      }, 250);
      // The broker's retries so far, asked for until the answer replaces
      // this page.
      const url = form.dataset.progressUrl;
      if (!url || !lines) return;
      const poll = async () => {
        try {
          const r = await fetch(url, { credentials: "same-origin" });
          const state = await r.json();
          lines.replaceChildren(...state.lines.map((text) => {
            const li = document.createElement("li");
            li.textContent = text;
            return li;
          }));
        } catch (e) {
          // The page is being replaced by the answer, or the broker is
          // busy: the clock goes on.
        }
        setTimeout(poll, 500);
      };
      setTimeout(poll, 300);
    });
  }
});

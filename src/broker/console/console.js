// deputy console: the only script. Pages work without it; it adds copy
// buttons, find-as-you-type over long lists, and a clock and the broker's
// retries while a verifying form waits for its answer.
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

  // Find-as-you-type over a long list (the trust policy's stack picker, a
  // table's rows): hides the items that do not match.
  for (const input of document.querySelectorAll("input.filter[data-filter]")) {
    const list = document.getElementById(input.dataset.filter);
    if (!list) continue;
    input.hidden = false;
    input.addEventListener("input", () => {
      const wanted = input.value.trim().toLowerCase();
      for (const item of list.querySelectorAll("label, tbody tr")) {
        item.hidden = wanted !== "" && !item.textContent.toLowerCase().includes(wanted);
      }
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
      // Announced once; the clock beside it is hidden from screen readers
      // so its ticks are not read out.
      const announce = panel.querySelector(".announce");
      if (announce) announce.textContent = form.dataset.progressSays || "Verifying the role…";
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

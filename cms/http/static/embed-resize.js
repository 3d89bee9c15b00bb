/*
 * <script src="https://cms.example/embed-resize.js" async></script>
 *
 * Include once on a page that shows Back Walk embed iframes (/embed/{article}/{benefit}): every
 * such iframe is then exactly as tall as its content, at any width, so the benefit, its
 * precautions, the disclaimer and the attribution are never hidden below a scroll inside the
 * frame. Each embed page posts {type: "bwk-embed-height", height} to its parent when its
 * height changes; this script accepts a message only from an iframe whose address is an embed
 * page of the server this script came from, and only from that page's own origin.
 */
(() => {
  "use strict";

  const FLAG = "__backwalkEmbedResize";
  if (window[FLAG]) return;
  window[FLAG] = true;

  const source = document.currentScript && document.currentScript.src;
  const EMBEDS = new URL("embed/", source || location.href).href;
  const MAX_HEIGHT = 20000;

  function embedFrames() {
    return Array.from(document.getElementsByTagName("iframe")).filter((frame) =>
      frame.src.startsWith(EMBEDS),
    );
  }

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || data.type !== "bwk-embed-height") return;
    const height = Number(data.height);
    if (!Number.isFinite(height) || height <= 0 || height > MAX_HEIGHT) return;
    const frame = embedFrames().find((candidate) => candidate.contentWindow === event.source);
    if (!frame || new URL(frame.src).origin !== event.origin) return;
    frame.style.height = `${Math.ceil(height)}px`;
  });

  // Frames that loaded before this script did have already told their height: ask again.
  for (const frame of embedFrames()) {
    if (frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "bwk-embed-measure" }, new URL(frame.src).origin);
    }
  }
})();

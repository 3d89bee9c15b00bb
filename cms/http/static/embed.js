/*
 * <backwalk-benefit article="back-walk" benefit="stress-relief"></backwalk-benefit>
 *
 * One benefit of a published article, always with the article's precautions, the medical
 * disclaimer and a link to the source, rendered in a shadow root. Served by the CMS at /embed.js;
 * the API is wherever this script was loaded from. Optional attribute: partner-key (sent as the
 * X-Partner-Key header).
 *
 * Every piece of content is set with textContent, never parsed as HTML: whatever an article
 * contains, it can only ever be shown as text. (The API's `html` field is sanitised on the server
 * and safe to insert too, but then the page's safety rests on that sanitiser; text does not.)
 */
(() => {
  "use strict";

  const TAG = "backwalk-benefit";
  if (!window.customElements || customElements.get(TAG)) return;

  const source = document.currentScript && document.currentScript.src;
  const BASE = new URL(".", source || location.href);
  const QUERY =
    "query BackwalkBenefit($article: String!, $benefit: String!) {" +
    " benefitSnippet(article: $article, benefit: $benefit) {" +
    " title url body(format: TEXT)" +
    " article { title url authorName reviewedBy lastReviewed }" +
    " precautions { title body(format: TEXT) }" +
    " disclaimer } }";
  const DATE = { day: "2-digit", month: "long", year: "numeric", timeZone: "UTC" };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function paragraphs(text) {
    return String(text)
      .split(/\n{2,}/)
      .filter((block) => block.trim())
      .map((block) => element("p", null, block));
  }

  function webAddress(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  // A benefit is shown only with everything that must travel with it.
  function complete(snippet) {
    return Boolean(
      snippet &&
        snippet.title &&
        snippet.article &&
        webAddress(snippet.url) &&
        Array.isArray(snippet.precautions) &&
        snippet.precautions.length > 0 &&
        snippet.disclaimer,
    );
  }

  async function fetchSnippet(article, benefit, partnerKey) {
    const url = new URL("graphql", BASE);
    url.searchParams.set("query", QUERY);
    url.searchParams.set("operationName", "BackwalkBenefit");
    url.searchParams.set("variables", JSON.stringify({ article, benefit }));
    const headers = { Accept: "application/graphql-response+json, application/json" };
    if (partnerKey) headers["X-Partner-Key"] = partnerKey;
    const response = await fetch(url, { headers, mode: "cors", credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data ? body.data.benefitSnippet : null;
  }

  function review(article) {
    const node = element("p", "bwk-snippet__review");
    if (!article.reviewedBy) {
      node.textContent = "Not yet medically reviewed.";
    } else if (!article.lastReviewed) {
      node.textContent = `Medically reviewed by ${article.reviewedBy}.`;
    } else {
      const day = new Date(`${article.lastReviewed}T00:00:00Z`);
      const time = element("time", null, day.toLocaleDateString("en-GB", DATE));
      time.dateTime = article.lastReviewed;
      node.append(`Medically reviewed by ${article.reviewedBy} on `, time, ".");
    }
    return node;
  }

  function render(snippet) {
    const root = element("article", "bwk-snippet");
    root.lang = "en";
    const body = element("div", "bwk-snippet__body");
    body.append(...paragraphs(snippet.body));

    const precautions = element("section", "bwk-snippet__precautions");
    precautions.setAttribute("aria-label", "Precautions");
    const list = element("ul", "bwk-snippet__precaution-list");
    for (const precaution of snippet.precautions) {
      const item = element("li", "bwk-snippet__precaution");
      item.append(
        element("strong", "bwk-snippet__precaution-title", precaution.title),
        ...paragraphs(precaution.body),
      );
      list.append(item);
    }
    precautions.append(element("h3", "bwk-snippet__precautions-title", "Precautions"), list);

    const disclaimer = element("p", "bwk-snippet__disclaimer", snippet.disclaimer);
    disclaimer.setAttribute("role", "note");

    const attribution = element("p", "bwk-snippet__attribution");
    const link = element("a", null, snippet.article.title);
    link.href = webAddress(snippet.url);
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    attribution.append("From ", link, ` by ${snippet.article.authorName}`);

    root.append(
      element("h2", "bwk-snippet__title", snippet.title),
      body,
      precautions,
      review(snippet.article),
      disclaimer,
      attribution,
    );
    return root;
  }

  class BackwalkBenefit extends HTMLElement {
    static get observedAttributes() {
      return ["article", "benefit", "partner-key"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._style = element("link");
      this._style.rel = "stylesheet";
      this._style.href = new URL("embed.css", BASE).href;
      this._generation = 0;
      this._scheduled = false;
    }

    connectedCallback() {
      this._schedule();
    }

    attributeChangedCallback() {
      this._schedule();
    }

    // Several attributes set at once load once.
    _schedule() {
      if (this._scheduled) return;
      this._scheduled = true;
      queueMicrotask(() => {
        this._scheduled = false;
        if (this.isConnected) this._load();
      });
    }

    async _load() {
      const generation = ++this._generation;
      const article = this.getAttribute("article");
      const benefit = this.getAttribute("benefit");
      const status = element("p", "bwk-snippet__status", "Loading health information…");
      status.setAttribute("role", "status");
      this._show("loading", status);
      let snippet = null;
      if (article && benefit) {
        try {
          snippet = await fetchSnippet(article, benefit, this.getAttribute("partner-key"));
        } catch (error) {
          snippet = null;
        }
      }
      if (generation !== this._generation) return; // a newer load has started
      if (complete(snippet)) {
        this._show("ready", render(snippet));
        return;
      }
      const message = element(
        "p",
        "bwk-snippet__error",
        "This health information could not be loaded. Please try again later.",
      );
      message.setAttribute("role", "alert");
      this._show("error", message);
    }

    _show(state, content) {
      this.shadowRoot.replaceChildren(this._style, content);
      this.setAttribute("aria-busy", String(state === "loading"));
      this.dataset.state = state;
    }
  }

  customElements.define(TAG, BackwalkBenefit);
})();

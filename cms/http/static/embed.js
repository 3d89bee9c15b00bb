/*
 * <backwalk-benefit article="back-walk" benefit="stress-relief"></backwalk-benefit>
 *
 * One benefit of a published article, always with the article's precautions, the medical
 * disclaimer and a link to the source, rendered in a shadow root. Served by the CMS at /embed.js;
 * the API is wherever this script was loaded from. Optional attribute: partner-key (sent as the
 * X-Partner-Key header).
 *
 * When it cannot show the benefit it says why, in words for the reader, sets data-error
 * (not-found, origin-not-allowed, invalid-key, rate-limited, unavailable, invalid) and logs the
 * cause and its fix for the page's developer with console.error. The CMS answers a keyed
 * request's refusals with CORS headers, so their status and code can be read here. Rate
 * limited, it tries again when the server says it may.
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
    " article { title url authorName reviewLine }" +
    " precautions { title body(format: TEXT) citations { ...Source } }" +
    " citations { ...Source } disclaimer } }" +
    " fragment Source on Citation { title url doi pmid publisher year }";

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

  // Why a benefit is not shown: `kind` (data-error), the reader's sentence, the developer's fix.
  class Refusal extends Error {
    constructor(kind, reader, developer, retryAfter) {
      super(developer);
      this.kind = kind;
      this.reader = reader;
      this.retryAfter = retryAfter;
    }
  }

  const NOT_SHOWN = "This health information cannot be shown on this site.";
  const TRY_LATER = "This health information could not be loaded. Please try again later.";
  const MAX_RETRY_SECONDS = 300;

  function keyRefusal(status, partnerKey) {
    const origin = location.origin;
    if (status === 403) {
      return new Refusal(
        "origin-not-allowed",
        NOT_SHOWN,
        `partner key "${partnerKey}" is not allowed from ${origin} (403 ORIGIN_NOT_ALLOWED): ask the CMS operator for a key with this origin (cms partner create --origin ${origin}), or use the key on one of its own origins.`,
      );
    }
    return new Refusal(
      "invalid-key",
      NOT_SHOWN,
      `partner key "${partnerKey}" is unknown or revoked (401 INVALID_PARTNER_KEY): check the partner-key attribute, or ask the CMS operator for a new key (cms partner create).`,
    );
  }

  function rateLimited(body, response) {
    const error = body && body.errors && body.errors.find((e) => e.extensions && e.extensions.retryAfter);
    const header = Number(response.headers.get("Retry-After"));
    const seconds = Math.min(
      MAX_RETRY_SECONDS,
      Math.max(1, Number((error && error.extensions.retryAfter) || header || 60)),
    );
    return new Refusal(
      "rate-limited",
      `This health information is in high demand. Trying again in ${seconds} seconds.`,
      `over the rate limit (429 RATE_LIMITED); retrying in ${seconds} s. A partner key's limit is set by the CMS operator (cms partner create --rate-limit); keyless reads share a per-IP limit.`,
      seconds,
    );
  }

  async function request(article, benefit, partnerKey) {
    const url = new URL("graphql", BASE);
    url.searchParams.set("query", QUERY);
    url.searchParams.set("operationName", "BackwalkBenefit");
    url.searchParams.set("variables", JSON.stringify({ article, benefit }));
    const headers = { Accept: "application/graphql-response+json, application/json" };
    if (partnerKey) headers["X-Partner-Key"] = partnerKey;
    return fetch(url, { headers, mode: "cors", credentials: "omit" });
  }

  async function fetchSnippet(article, benefit, partnerKey) {
    let response;
    try {
      response = await request(article, benefit, partnerKey);
    } catch (error) {
      throw new Refusal(
        "unavailable",
        TRY_LATER,
        `could not reach ${new URL("graphql", BASE).href} (${error.message}): check that the CMS is up and that this script's address is the CMS's.`,
      );
    }
    const body = await response.json().catch(() => null);
    const codes = (body && body.errors ? body.errors : []).map(
      (e) => e.extensions && e.extensions.code,
    );
    if (response.status === 429 || codes.includes("RATE_LIMITED")) throw rateLimited(body, response);
    if ((response.status === 401 || response.status === 403) && partnerKey) {
      throw keyRefusal(response.status, partnerKey);
    }
    if (!response.ok || !body || codes.length) {
      const message = codes.length ? `${codes[0]}: ${body.errors[0].message}` : `HTTP ${response.status}`;
      throw new Refusal("unavailable", TRY_LATER, `the CMS answered ${message}.`);
    }
    const snippet = body.data ? body.data.benefitSnippet : null;
    if (!complete(snippet)) {
      throw new Refusal(
        "not-found",
        "This health information is not available.",
        `no published benefit "${benefit}" in article "${article}" at ${BASE.href}: check the article and benefit attributes (the slugs in the benefit's address, /articles/${article}#${benefit}).`,
      );
    }
    return snippet;
  }

  // The server says what is true of the review (reviewed as it stands, changed since, overdue,
  // never): shown as it comes.
  function review(article) {
    return element("p", "bwk-snippet__review", article.reviewLine);
  }

  function sourceAddress(citation) {
    if (citation.url) return webAddress(citation.url);
    if (citation.doi) return webAddress(`https://doi.org/${citation.doi}`);
    return citation.pmid ? webAddress(`https://pubmed.ncbi.nlm.nih.gov/${citation.pmid}/`) : null;
  }

  // The claim's sources, then the precautions', each once; nothing when there are none.
  function sources(snippet) {
    const seen = new Set();
    const list = element("ol", "bwk-snippet__source-list");
    const citations = [snippet, ...snippet.precautions].flatMap((item) => item.citations || []);
    for (const citation of citations) {
      const key = JSON.stringify(citation);
      if (seen.has(key)) continue;
      seen.add(key);
      const item = element("li", "bwk-snippet__source");
      const address = sourceAddress(citation);
      const title = element(address ? "a" : "span", null, citation.title);
      if (address) {
        title.href = address;
        title.rel = "noopener noreferrer";
        title.target = "_blank";
      }
      const details = [citation.publisher, citation.year].filter((part) => part).join(", ");
      item.append(title, details ? `. ${details}.` : ".");
      list.append(item);
    }
    if (!list.children.length) return [];
    const section = element("section", "bwk-snippet__sources");
    section.setAttribute("aria-label", "Sources");
    section.append(element("h3", "bwk-snippet__sources-title", "Sources"), list);
    return [section];
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
      ...sources(snippet),
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
      clearTimeout(this._retry);
      const article = this.getAttribute("article");
      const benefit = this.getAttribute("benefit");
      const status = element("p", "bwk-snippet__status", "Loading health information…");
      status.setAttribute("role", "status");
      this._show("loading", status);
      let snippet = null;
      let refusal = null;
      try {
        if (!article || !benefit) {
          throw new Refusal(
            "invalid",
            TRY_LATER,
            'set both the article and the benefit attribute, e.g. <backwalk-benefit article="back-walk" benefit="stress-relief">.',
          );
        }
        snippet = await fetchSnippet(article, benefit, this.getAttribute("partner-key"));
      } catch (error) {
        refusal =
          error instanceof Refusal ? error : new Refusal("unavailable", TRY_LATER, String(error));
      }
      if (generation !== this._generation) return; // a newer load has started
      if (!refusal) {
        this._show("ready", render(snippet));
        return;
      }
      console.error(`<backwalk-benefit>: ${refusal.message}`);
      const message = element("p", "bwk-snippet__error", refusal.reader);
      message.setAttribute("role", "alert");
      this._show("error", message, refusal.kind);
      if (refusal.retryAfter) {
        this._retry = setTimeout(() => this._schedule(), refusal.retryAfter * 1000);
      }
    }

    _show(state, content, error) {
      this.shadowRoot.replaceChildren(this._style, content);
      this.setAttribute("aria-busy", String(state === "loading"));
      this.dataset.state = state;
      if (error) this.dataset.error = error;
      else delete this.dataset.error;
    }
  }

  customElements.define(TAG, BackwalkBenefit);
})();

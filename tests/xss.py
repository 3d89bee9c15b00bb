"""Script-injection payloads placed in content, and an article that carries them everywhere."""

from __future__ import annotations

from cms.documents import ArticleDocument

# Each payload calls `__xss`, which the browser tests define to record that script ran.
PAYLOADS = (
    "<script>__xss(1)</script>",
    '<img src=x onerror="__xss(2)">',
    '"><svg onload=__xss(3)>',
    "</style><script>__xss(4)</script>",
    "</script><script>__xss(5)</script>",
    "[click](javascript:__xss(6))",
    '<a href="javascript:__xss(7)">click</a>',
    '<iframe srcdoc="<script>parent.__xss(8)</script>"></iframe>',
    "`</template><script>__xss(9)</script>`",
    "<details open ontoggle=__xss(10)>",
)


def xss_document() -> ArticleDocument:
    """Every payload as a benefit title and in every benefit body, precaution and name."""
    joined = "\n\n".join(PAYLOADS)
    return ArticleDocument.model_validate(
        {
            "slug": "xss",
            "title": PAYLOADS[0],
            "status": "published",
            "published_at": "2026-01-01T00:00:00Z",
            "author": {"slug": "mallory", "name": PAYLOADS[1]},
            "review": {
                "reviewer": {"slug": "mallory-md", "name": PAYLOADS[2]},
                "reviewed_on": "2026-01-02",
                "next_review_due": "2099-01-01",
            },
            "benefits": [
                {"slug": f"payload-{i}", "title": payload, "body": joined}
                for i, payload in enumerate(PAYLOADS)
            ],
            "precautions": [{"slug": "care", "title": PAYLOADS[3], "body": joined}],
        }
    )

"""Every generated HTML page passes the Nu Html Checker with zero errors.

One JVM checks the whole example site plus a small site that exercises the
other branches of the templates (a closed cycle with scores, lint badges, a
future check-in, base_url with its 404 <base> and sitemap).
"""

from __future__ import annotations

import pytest

from okrsite.build import build_site
from tests.browser import validate_html
from tests.example_build import built_example
from tests.sites import TODAY, make_site

VARIED = {
    "okrsite.toml": """
        [site]
        title = "Acme <OKRs> & more"
        base_url = "https://okrs.example.com/acme/"
    """,
    "content/cycles/2026-Q3/company.md": """
        ---
        objectives:
          - id: launch
            title: Launch 3 products
            key_results:
              - id: shipped
                title: Build the new app
                start: 0
                target: 3
        ---
    """,
    "content/cycles/2026-Q3/company/2026-09-20.md": """
        ---
        updates:
          shipped: {value: 2, grade: 0.6, confidence: 0.5}
        ---
        The last word on Q3.
    """,
    "content/cycles/2026-Q4/sales/2026-12-01.md": """
        ---
        updates:
          pipeline-value: {value: 400000}
        ---
        Written ahead of time.
    """,
}


@pytest.mark.slow
def test_every_page_is_valid_html(tmp_path):
    example = built_example()
    varied = tmp_path / "out"
    assert build_site(make_site(tmp_path / "site", VARIED), varied, TODAY).published
    assert (varied / "sitemap.xml").is_file()
    pages = sorted(example.rglob("*.html")) + sorted(varied.rglob("*.html"))
    assert len(pages) > 300
    errors = validate_html([example, varied])
    assert errors == [], "\n".join(errors[:50])

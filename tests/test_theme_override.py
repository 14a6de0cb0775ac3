"""A site theme with `extends = "default"` overrides single files; the rest is inherited."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okrsite.build import build_site
from okrsite.render import theme_dirs
from tests.sites import TODAY, make_site

CHILD = {
    "okrsite.toml": '[site]\ntitle = "Acme OKRs"\ntheme = "acme"\n',
    "themes/acme/theme.toml": 'extends = "default"\n',
    # one template: the footer (every page includes it)
    "themes/acme/templates/footer.html": """
        <footer class="foot"><p>Acme internal · figures as of {{ today|date }}</p></footer>
    """,
    # one static file: the stylesheet, importing nothing from the parent
    "themes/acme/static/style.css": "body { font-family: 'Acme Sans', sans-serif; }\n",
    # and a new static file the parent does not have
    "themes/acme/static/logo.txt": "ACME\n",
}


def test_child_theme_overrides_one_template_and_one_static_file(tmp_path):
    site = make_site(tmp_path / "site", CHILD)
    out = tmp_path / "out"
    result = build_site(site, out, TODAY)
    assert result.published, result.diagnostics
    dashboard = (out / "index.html").read_text()
    assert "Acme internal · figures as of 14 Nov 2026" in dashboard
    assert "built with okrsite" not in dashboard  # the parent's footer is replaced
    assert "Company objectives" in dashboard  # the parent's dashboard is inherited
    assert (out / "assets/style.css").read_text() == CHILD["themes/acme/static/style.css"]
    assert (out / "assets/search.js").is_file()  # the parent's other static files stay
    assert (out / "assets/logo.txt").read_text() == "ACME\n"
    # every page uses the override, including ones the child never mentions
    objective = (out / "cycles/2026-Q4/sales/objectives/pipeline/index.html").read_text()
    assert "Acme internal" in objective and '<svg class="chart"' in objective


def test_theme_chain_is_most_specific_first(tmp_path):
    site = make_site(tmp_path / "site", CHILD)
    chain = theme_dirs(site, "acme")
    assert [p.name for p in chain] == ["acme", "default"]
    assert chain[0] == site / "themes" / "acme"


def test_a_child_page_template_reuses_the_parent_base(tmp_path):
    files = dict(CHILD)
    del files["themes/acme/templates/footer.html"]
    # A child's page template is found before the parent's and can reuse the parent's
    # base.html and blocks.
    files["themes/acme/templates/objective.html"] = """
        {% extends "base.html" %}
        {% block title %}Objective{% endblock %}
        {% block content %}<h1>{{ objective.title }}</h1><p>custom objective page</p>{% endblock %}
    """
    site = make_site(tmp_path / "site", files)
    out = tmp_path / "out"
    assert build_site(site, out, TODAY).published
    html = (out / "cycles/2026-Q4/sales/objectives/pipeline/index.html").read_text()
    assert "custom objective page" in html and "Build a pipeline" in html
    assert "Skip to content" in html  # base.html from the parent


def test_templates_read_the_environments_globals_as_they_are_now(tmp_path):
    """Templates share the environment's globals dict (render._Environment), so a
    renderer that sets them after a template loaded (a rebuild) is seen."""
    from okrsite.render import make_environment

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.html").write_text("{{ greeting }} {{ name }}")
    env = make_environment([tmp_path])
    env.globals["greeting"] = "hello"
    assert env.get_template("t.html").render(name="a") == "hello a"
    env.globals["greeting"] = "bye"
    assert env.get_template("t.html").render(name="b") == "bye b"
    # Jinja would write them into the shared dict: refused, not silently shared
    with pytest.raises(TypeError):
        env.get_template("t.html", globals={"greeting": "own"})
    with pytest.raises(TypeError):
        env.select_template(["t.html"], globals={"greeting": "own"})
    assert env.globals["greeting"] == "bye"
    assert env.from_string("{{ greeting }}", globals={"greeting": "own"}).render() == "own"
    assert env.globals["greeting"] == "bye"


def test_template_calls_keep_jinjas_meaning(tmp_path):
    """render._Context calls plain callables at once: a pass_context function still
    sees the variables set in a loop, macros and methods get exactly their arguments, and
    a callable's StopIteration gives an undefined value, as with Jinja's own."""
    import jinja2

    from okrsite.render import make_environment

    @jinja2.pass_context
    def seen(context, name):
        return context.get(name)

    def arguments(*args, **kwargs):
        return f"{args} {sorted(kwargs)}"

    def exhausted():
        raise StopIteration

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.html").write_text(
        "{% macro m(x) %}[{{ x }}]{% endmacro %}"
        "{% for item in items %}{% set v = item * 10 %}{{ seen('v') }} {{ arguments(item, k=1) }} "
        "{{ m(item) }} {{ 'a-b'.split('-') }};{% endfor %}"
        "{{ exhausted() is undefined }}"
    )
    env = make_environment([tmp_path])
    env.globals.update(seen=seen, arguments=arguments, exhausted=exhausted)
    html = env.get_template("t.html").render(items=[1, 2])
    assert html == (
        "10 (1,) [&#39;k&#39;] [1] [&#39;a&#39;, &#39;b&#39;];"
        "20 (2,) [&#39;k&#39;] [2] [&#39;a&#39;, &#39;b&#39;];True"
    )


ESCAPING_TEMPLATES = {
    "base.html": "<main>{% block body %}[{{ evil }}]{% endblock %}</main>",
    "part.html": "<p>{{ evil }} {{ count }}</p>",
    "page.html": (
        '{% extends "base.html" %}'
        '{% import "macros.html" as m with context %}'
        "{% block body %}{{ super() }}"
        "{% set captured %}<i>{{ evil }}</i>{% endset %}{{ captured }}"
        "{% filter upper %}{{ evil }}{% endfilter %}"
        "{% call m.wrap() %}{{ evil }}{% endcall %}"
        "{{ m.box(safe) }}{{ evil ~ safe }}{{ html_object }}{{ count }}{{ ratio }}"
        '{% include "part.html" %}{% endblock %}'
    ),
    "macros.html": (
        "{% macro box(inner) %}<div>{{ inner }}</div>{% endmacro %}"
        "{% macro wrap() %}<div>{{ caller() }}</div>{% endmacro %}"
    ),
}


def test_printed_values_are_escaped_as_jinja_escapes_them(tmp_path):
    """render._Template prints values through its own escape, a plain string where
    markupsafe gives Markup. Each way a template prints (blocks, super, set blocks,
    filter and call blocks, macros, includes, `~`) gives Jinja's own bytes."""
    import jinja2
    from markupsafe import Markup

    from okrsite.render import make_environment

    class HasHtml:
        def __html__(self):
            return "<em>already safe</em>"

    (tmp_path / "templates").mkdir()
    for name, text in ESCAPING_TEMPLATES.items():
        (tmp_path / "templates" / name).write_text(text)
    values = dict(
        evil="<script>alert('x') & \"y\"</script>",
        safe=Markup("<b>bold</b>"),
        html_object=HasHtml(),
        count=3,
        ratio=0.5,
    )
    ours = make_environment([tmp_path]).get_template("page.html").render(**values)
    jinjas = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(tmp_path / "templates")), autoescape=True
    )
    assert ours == jinjas.get_template("page.html").render(**values)
    assert "<script>" not in ours and "<SCRIPT>" not in ours
    escaped = "&lt;script&gt;alert(&#39;x&#39;) &amp; &#34;y&#34;&lt;/script&gt;"
    assert ours.lower().count(escaped) == 6  # the filter block prints it in capitals


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.none()))
def test_output_escape_gives_markupsafes_text(value):
    import markupsafe

    from okrsite.escaping import escape

    assert type(escape(value)) is str
    assert escape(value) == str(markupsafe.escape(value))


def test_escape_without_markupsafes_private_function(monkeypatch):
    """`escaping` uses markupsafe's `_escape_inner`, which is not public: without
    it, a copy of the module falls back to `markupsafe.escape`, with the same text."""
    import importlib.util
    import sys
    import types

    import markupsafe

    from okrsite import escaping

    public = types.ModuleType("markupsafe")  # markupsafe's public escape only
    public.escape = markupsafe.escape
    monkeypatch.setitem(sys.modules, "markupsafe", public)
    spec = importlib.util.spec_from_file_location("escaping_copy", escaping.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    assert copy._escape_inner is not escaping._escape_inner
    for value in "<script>alert('x') & \"y\"</script>", 3, None, markupsafe.Markup("<b>kept</b>"):
        assert copy.escape(value) == escaping.escape(value) == str(markupsafe.escape(value))

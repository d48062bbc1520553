"""GraphiQL with the explorer, from fugong's own files: it loads and runs a query with every
request to another origin blocked."""

from __future__ import annotations

from urllib.parse import quote


def test_graphiql_runs_a_query_offline(live_server, open_page):
    query = '{ area(code: "350112") { name flagCounts { total } } }'
    watched = open_page(f"{live_server}/graphql?q={quote(query)}")
    page = watched.page
    page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    # The explorer lists the schema's root fields, read by introspection.
    page.click("button[aria-label='Show GraphiQL Explorer']")
    page.wait_for_selector(".graphiql-plugin >> text=quarantineSites")
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.result-window')?.textContent.includes('长乐区')",
        timeout=15_000,
    )
    assert '"total"' in page.locator(".result-window").inner_text()
    assert watched.outside == [] and watched.errors == []

"""`/docs` works on a machine with no internet access: the page references only this server,
and everything it references is served."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_load_only_local_assets(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    referenced = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""", page.text)
    addresses = [a or b for a, b in referenced]
    assert len(addresses) >= 4, page.text
    for address in addresses:
        assert address.startswith("/") and not address.startswith("//"), f"/docs loads {address} from elsewhere"
        served = client.get(address)
        assert served.status_code == 200 and served.content, address
    assert "http://" not in page.text and "https://" not in page.text, "nothing may come from another host"
    script = client.get(next(a for a in addresses if a.endswith(".js")))
    assert "javascript" in script.headers["content-type"] and b"SwaggerUIBundle" in script.content
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1"), "Swagger UI 5 reads OpenAPI 3.1"

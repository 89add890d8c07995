"""The hub of tests/docker/test_image.py: docker/jupyterhub_config.py as shipped, plus what a test
needs (a shared-password authenticator, free ports on 127.0.0.1, an admin service token, its
database in the working folder). Settings come from the environment that the test sets."""

import os

c = get_config()  # noqa: F821
load_subconfig(os.environ["IAGEN_HUB_CONFIG"])  # noqa: F821

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["IAGEN_TEST_PASSWORD"]
c.Authenticator.allow_all = True
c.JupyterHub.hub_bind_url = "http://127.0.0.1:" + os.environ["IAGEN_TEST_HUB_PORT"]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:" + os.environ["IAGEN_TEST_PROXY_API_PORT"]
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
c.JupyterHub.services = [{"name": "iagen-test", "api_token": os.environ["IAGEN_TEST_ADMIN_TOKEN"]}]
c.JupyterHub.load_roles = [{
    "name": "iagen-test-admin",
    "scopes": ["admin:users", "admin:servers", "servers", "read:servers", "tokens", "list:users", "read:users"],
    "services": ["iagen-test"],
}]

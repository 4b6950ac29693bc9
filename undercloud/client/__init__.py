"""The one client of the cloud's own public APIs: JSON over HTTP with a token (http), a
clouds.yaml login with its catalog (session), and the image service's data (images).
Services use it to reach each other's HTTP APIs with the caller's token, as Nova reaches
Glance; `stackbox node` and the deployer use it as an operator's client."""

"""The configured image store, and the staging area glance-direct imports stage into."""
from undercloud.image import drivers
from undercloud.image.drivers.filesystem import FilesystemStore

# The one store this site has, as /v2/info/stores and image locations name it.
STORE_ID = "file"


def store(config) -> drivers.Store:
    return drivers.load("file", directory=config["image"]["store_dir"] or config.path("images"))


def staging(config) -> FilesystemStore:
    # Staged data always sits on local disk, whatever the store is (as in Glance).
    return FilesystemStore(config["image"]["staging_dir"] or config.path("image-staging"))

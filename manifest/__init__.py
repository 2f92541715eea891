"""The Community MARAC Teams app package: manifest, branding, icons and zip builder."""

from manifest.branding import (
    Branding,
    BrandingError,
    default_branding,
    load_branding,
)
from manifest.build import (
    MANIFEST_VERSION,
    MAX_COMMANDS_PER_SCOPE,
    RSC_PERMISSIONS,
    SCHEMA_URL,
    SCOPES,
    SUPPORTED_CHANNEL_TYPES,
    ManifestCommand,
    ManifestOptions,
    build_manifest,
    icon_path,
    schema_path,
    write_package,
)

__all__ = [
    "MANIFEST_VERSION",
    "MAX_COMMANDS_PER_SCOPE",
    "RSC_PERMISSIONS",
    "SCHEMA_URL",
    "SCOPES",
    "SUPPORTED_CHANNEL_TYPES",
    "Branding",
    "BrandingError",
    "ManifestCommand",
    "ManifestOptions",
    "build_manifest",
    "default_branding",
    "icon_path",
    "load_branding",
    "schema_path",
    "write_package",
]

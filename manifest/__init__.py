"""The Community MARAC Teams app package: manifest, icons and zip builder."""

from manifest.build import (
    ACCENT_COLOR,
    MANIFEST_VERSION,
    MAX_COMMANDS_PER_SCOPE,
    RSC_PERMISSIONS,
    SCHEMA_URL,
    SCOPES,
    ManifestCommand,
    ManifestOptions,
    build_manifest,
    icon_path,
    schema_path,
    write_package,
)

__all__ = [
    "ACCENT_COLOR",
    "MANIFEST_VERSION",
    "MAX_COMMANDS_PER_SCOPE",
    "RSC_PERMISSIONS",
    "SCHEMA_URL",
    "SCOPES",
    "ManifestCommand",
    "ManifestOptions",
    "build_manifest",
    "icon_path",
    "schema_path",
    "write_package",
]

//! Which repositories (GitHub) or projects (GitLab) a collection keeps: the config's `include`, `exclude` and
//! `archived`, the same for every forge.

/// Whether a repository or project is in scope: `include` (empty: all) and `exclude` are patterns matched against
/// its full name (`owner/name`, `group/sub/project`) or its last segment; archived ones only when `archived` allows.
pub fn in_scope(
    include: &[String],
    exclude: &[String],
    archived_in_scope: bool,
    full_name: &str,
    archived: bool,
) -> bool {
    let name = full_name.rsplit('/').next().unwrap_or(full_name);
    let hits = |patterns: &[String]| {
        patterns.iter().any(|p| crate::glob::matches(p, full_name) || crate::glob::matches(p, name))
    };
    (archived_in_scope || !archived) && (include.is_empty() || hits(include)) && !hits(exclude)
}

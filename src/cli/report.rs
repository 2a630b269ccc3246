//! `pipeproof report`: the report files of an evaluation.

use std::path::Path;

use anyhow::Result;

use super::ReportArgs;
use crate::config::Config;
use crate::error::EXIT_OK;
use crate::store::Store;

pub fn report(store_path: &Path, config_path: &Path, args: &ReportArgs) -> Result<u8> {
    let config = Config::load(config_path, false)?;
    let conn = Store::open_read_only(store_path)?;
    let mut model = crate::drift::report_with_drift(&conn, args.evaluation, config.organisation.as_deref())?;
    drop(conn);
    model.limit_to_frameworks(&args.frameworks)?;
    for path in
        crate::report::write_reports(&model, &args.output, &args.formats, args.templates.as_deref(), args.paper)?
    {
        println!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}

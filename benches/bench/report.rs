//! Benchmark: render a synthetic evaluation with 5,000 findings across 500 resources as HTML and PDF, and open the
//! HTML in headless Chromium (when installed). Prints render times and sizes (goals: PDF < 2 s; HTML < 1 s and < 10 MB).
//! Resources: PIPEPROOF_BENCH_RESOURCES (default 500); PIPEPROOF_BENCH_OUT=DIR keeps report.html and report.pdf
//! there for looking at. Run with `./x bench report`.

use std::time::Instant;

use pipeproof::report::Paper;
use pipeproof::report::{html, model, pdf};

/// Renders the synthetic model as HTML and PDF and opens the HTML in Chromium.
pub fn run() -> anyhow::Result<()> {
    let resources = std::env::var("PIPEPROOF_BENCH_RESOURCES").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let model = model::synthetic_model(resources)?;
    let findings: usize = model.controls.iter().map(|c| c.findings.len()).sum();
    println!("model: {findings} findings across {resources} resources, {} controls", model.controls.len());

    let start = Instant::now();
    let page = html::render(&model, None)?;
    println!("html: {:.2} s, {:.1} MB (goals < 1 s, < 10 MB)", start.elapsed().as_secs_f64(), page.len() as f64 / 1e6);

    let start = Instant::now();
    let document = pdf::render(&model, Paper::A4)?;
    println!("pdf:  {:.2} s, {:.1} MB (goal < 2 s)", start.elapsed().as_secs_f64(), document.len() as f64 / 1e6);

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.html");
    std::fs::write(&path, &page)?;
    if let Some(keep) = std::env::var_os("PIPEPROOF_BENCH_OUT") {
        std::fs::create_dir_all(&keep)?;
        std::fs::write(std::path::Path::new(&keep).join("report.html"), &page)?;
        std::fs::write(std::path::Path::new(&keep).join("report.pdf"), &document)?;
    }
    if std::path::Path::new("/usr/bin/chromium").exists() {
        let start = Instant::now();
        let output = std::process::Command::new("/usr/bin/chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
            .arg(format!("--screenshot={}", dir.path().join("shot.png").display()))
            .arg(format!("file://{}", path.display()))
            .output()?;
        anyhow::ensure!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
        println!(
            "chromium: opened, ran the script and rendered a screenshot in {:.2} s",
            start.elapsed().as_secs_f64()
        );
    } else {
        println!("chromium: not installed, skipped");
    }
    Ok(())
}

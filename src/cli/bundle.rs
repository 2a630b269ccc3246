//! The `bundle`, `verify` and `keygen` commands: arguments in, the bundle stage called, what happened printed.

use std::path::Path;

use anyhow::Result;

use crate::bundle::manifest::Manifest;
use crate::bundle::signature::{self, Password};
use crate::bundle::RenderOptions;
use crate::bundle::SignatureCheck;
use crate::cli::{BundleArgs, KeygenArgs, VerifyArgs};
use crate::config::Config;
use crate::error::{input_error, EXIT_GATE_FAILED, EXIT_OK};
use crate::store::Store;

/// `pipeproof bundle`.
pub fn bundle(store_path: &Path, config_path: &Path, args: &BundleArgs) -> Result<u8> {
    let config = Config::load(config_path, false)?;
    let store = Store::open_existing(store_path)?;
    let evaluation_id = crate::evaluate::which::chosen(store.conn(), args.evaluation, args.period.as_deref())?;
    let previous_root_hash = args.previous.as_deref().map(crate::bundle::previous_root).transpose()?;
    let options = RenderOptions {
        paper: args.paper,
        templates: args.templates.as_deref(),
        organisation: config.organisation.as_deref(),
        previous_root_hash,
    };
    let sign_with = args.sign.as_deref().map(|key| (key, Password::FromEnv(&args.password_env)));
    let (manifest, signed) = crate::bundle::create(&store, evaluation_id, &options, sign_with, &args.output)?;
    print_written(&args.output, &manifest, signed);
    Ok(EXIT_OK)
}

/// One line saying what a bundle holds.
pub fn print_written(output: &Path, manifest: &Manifest, signed: bool) {
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "wrote bundle {}: evaluation #{} of {}, {} files ({} evidence items, {bytes} bytes), root hash {}{}",
        output.display(),
        manifest.evaluation_id,
        crate::terminal::escaped(&manifest.organisation),
        manifest.files.len() + 1 + usize::from(signed),
        manifest.evidence.len(),
        manifest.root_hash,
        if signed { "; manifest.json signed" } else { "; unsigned (use --sign KEYFILE)" }
    );
}

/// `pipeproof verify`.
pub fn verify(args: &VerifyArgs) -> Result<u8> {
    if !args.bundle.exists() {
        return Err(input_error(format!("{} does not exist", args.bundle.display())));
    }
    let public_key = args.pubkey.as_deref().map(signature::load_public).transpose()?;
    let verification = crate::bundle::verify(&args.bundle, public_key.as_ref(), args.max_size);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
    } else {
        print!("{}", describe(&args.bundle, &verification));
    }
    Ok(if verification.holds() { EXIT_OK } else { EXIT_GATE_FAILED })
}

/// The verification, in words, for people; every string from the bundle is escaped for the terminal.
pub fn describe(path: &Path, verification: &crate::bundle::Verification) -> String {
    use crate::terminal::escaped;
    let mut out = format!("bundle {}\n", escaped(&path.display().to_string()));
    if let Some(manifest) = &verification.manifest {
        let period = manifest.period.as_ref().map(|p| format!(", period {}", escaped(&p.label))).unwrap_or_default();
        out += &format!(
            "  {}{period}: evaluation #{} as of {}, written by pipeproof {}\n",
            escaped(&manifest.organisation),
            manifest.evaluation_id,
            escaped(&manifest.as_of),
            escaped(&manifest.tool_version)
        );
        out += &format!(
            "  files:     {} of {} listed match their size and sha256\n",
            verification.files_checked,
            manifest.files.len()
        );
        out += &format!("  evidence:  {} items listed with their provenance\n", verification.evidence_items);
        if let Some(root) = &verification.root_hash {
            out += &format!("  root hash: {root}\n");
        }
        out += &format!(
            "  previous:  {}\n",
            escaped(manifest.previous_root_hash.as_deref().unwrap_or("none recorded (first bundle of a chain)"))
        );
    }
    out += &match &verification.signature {
        _ if verification.manifest.is_none() => String::new(),
        SignatureCheck::Verified { key_id, trusted_comment } => format!(
            "  signature: VERIFIED with key {} (trusted comment: {})\n",
            escaped(key_id),
            escaped(trusted_comment)
        ),
        SignatureCheck::NotChecked { signature_present: true } => {
            "  signature: NOT CHECKED: the bundle is signed, but no --pubkey was given\n".to_string()
        }
        SignatureCheck::NotChecked { signature_present: false } => {
            "  signature: NOT CHECKED: the bundle is not signed\n".to_string()
        }
        SignatureCheck::Failed => "  signature: FAILED\n".to_string(),
    };
    if verification.attestations_checked > 0 {
        out += &format!(
            "  attestations: {} SLSA source verification summaries checked with the same key\n",
            verification.attestations_checked
        );
    }
    for problem in &verification.problems {
        out += &format!(
            "  {:<9} {}{}\n",
            problem.kind.to_uppercase(),
            problem.path.as_deref().map(|p| format!("{}: ", escaped(p))).unwrap_or_default(),
            escaped(&problem.message)
        );
    }
    out += &if verification.holds() {
        "verified: every file, hash and reference holds\n".to_string()
    } else {
        format!("FAILED: {} problem(s)\n", verification.problems.len().max(1))
    };
    out
}

/// `pipeproof keygen`.
pub fn keygen(args: &KeygenArgs) -> Result<u8> {
    let password = if args.no_password { Password::None } else { Password::FromEnv(&args.password_env) };
    let files = signature::keygen(&args.output, password, args.force)?;
    println!(
        "secret key: {} (keep it private; sign with `pipeproof bundle --sign {}`)",
        files.secret.display(),
        files.secret.display()
    );
    println!("public key: {} (key id {}); give it to your auditors", files.public.display(), files.key_id);
    println!(
        "auditors check a bundle with `pipeproof verify BUNDLE --pubkey {}` or, unzipped, `minisign -Vm manifest.json -p {}`",
        files.public.display(),
        files.public.display()
    );
    Ok(EXIT_OK)
}

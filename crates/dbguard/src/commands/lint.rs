//! `dbguard lint`.

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}

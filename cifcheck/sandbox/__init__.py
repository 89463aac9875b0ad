"""The sandbox org: a local emulation of a Dynamics 365 org running CIF 2.0, faithful to cif-facts.md."""

//! `leadgate demo`: the whole pipeline on bundled sample mail, no server needed.

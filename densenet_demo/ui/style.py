"""The page's own CSS, handed to `launch` (Gradio 6 takes it there)."""

PAGE_CSS = """
/* Figures kept from the last valid configuration while a value is refused. */
.block.stale { opacity: 0.35; transition: opacity 0.2s; }
/* The sentence that says which value was refused, beside those figures. */
.block.refusal { border-left: 4px solid #d62728; padding-left: 0.8em; }
/* On a phone the Explore figures come first, the sixteen controls after them. */
@media (max-width: 640px) {
  #explore-layout { flex-direction: column-reverse; }
}
"""

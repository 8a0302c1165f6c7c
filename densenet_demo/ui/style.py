"""The page's own CSS, handed to `launch` (Gradio 6 takes it there)."""

PAGE_CSS = """
/* Figures kept from the last valid configuration while a value is refused. */
.block.stale { opacity: 0.35; transition: opacity 0.2s; }
/* The sentence that says which value was refused, beside those figures. */
.block.refusal { border-left: 4px solid #d62728; padding-left: 0.8em; }
/* A comparison's B − A and B / A stay on one line each. */
#headline td:nth-child(n+4), #headline th:nth-child(n+4) { white-space: nowrap; }
/* The Train tab's progress: the share of the job's steps done. */
.train-bar { height: 10px; border-radius: 5px; overflow: hidden;
  background: var(--neutral-200); }
.train-bar > div { height: 100%; background: var(--color-accent); transition: width 0.4s; }
/* A menu's long choice (a run: its id and configuration) ends in … before the menu's arrow,
   not under it. */
.block input[role="combobox"] { padding-right: 24px; text-overflow: ellipsis; }
/* On a phone the Explore figures come first, the sixteen controls after them. */
@media (max-width: 640px) {
  #explore-layout { flex-direction: column-reverse; }
  /* A comparison (five columns) scrolls sideways rather than squeezing every cell, or
     widening its column past the screen. */
  #explore-layout > .column { max-width: 100%; }
  #headline table { display: block; overflow-x: auto; border: none; }
  #headline td:first-child, #headline th:first-child {
    position: sticky; left: 0; background: var(--background-fill-primary);
  }
  #headline td:nth-child(-n+3), #headline th:nth-child(-n+3) { min-width: 8em; }
}
"""

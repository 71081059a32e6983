"""Entry point: page config, the shared sidebar, the link's notices, and navigation; and the
server's start (`app`).

Streamlit runs this file as __main__ for every visit. `streamlit run app.py` also imports it, as
`app`, to find the server it serves (st.App: its lifespan runs before the first visitor comes, see
ui/boot.py). A worker process imports it again as __mp_main__ (multiprocessing's spawn re-imports
its parent's main module, which every visit's script run and the server's start make this file:
`boot.spawn_from_the_app`), where it must neither draw nor import the UI (measured: 125 MB and
1.6 s more per worker, and a sidebar drawn in bare mode with hundreds of warnings)."""

if __name__ == "__main__":
    import streamlit as st

    from ui import diverged, notices, pages, reachable, sidebar

    st.set_page_config(
        page_title="Why does the loss grow with the learning rate?", page_icon=":material/trending_up:", layout="wide"
    )
    sidebar.view()
    notices.show()
    reachable.banner()
    diverged.DivergedRuns.above_the_page()
    pages.navigation()
elif __name__ != "__mp_main__":
    import streamlit as st

    from ui import boot

    app = st.App(__file__, lifespan=boot.lifespan)

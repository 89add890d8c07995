# System-wide Jupyter Server settings of the image (/etc/jupyter), for JupyterLab and
# jupyterhub-singleuser alike.
c = get_config()  # noqa: F821

# The course's kernel is the default one (installed outside the home folder, in the image's
# .venv/share/jupyter/kernels/iagen, so that a volume over /home/jovyan cannot hide it).
c.MultiKernelManager.default_kernel_name = "iagen"
c.ServerApp.allow_root = False
c.ServerApp.port_retries = 0
# Nothing is fetched at run time: no update check, no news feed, no extension catalogue.
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
c.LabApp.news_url = None
c.LabApp.extension_manager = "readonly"

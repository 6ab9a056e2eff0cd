import subprocess

subprocess.run(["dropdb", "app_dev"], check=True)

from ninja import NinjaAPI

api = NinjaAPI(title="Veilleur API", version="1", urls_namespace="api")

// ClientAPIService
